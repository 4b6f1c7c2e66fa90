"""SB3's `stable_baselines3.common.logger`: re-exports `rl.core.logger`."""
from ..core.logger import *  # noqa: F401,F403
from ..core.logger import __all__  # noqa: F401
