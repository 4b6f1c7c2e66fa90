"""SB3's `stable_baselines3.common.monitor`: re-exports `rl.core.monitor`."""
from ..core.monitor import *  # noqa: F401,F403
from ..core.monitor import __all__  # noqa: F401
