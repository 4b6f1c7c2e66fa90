"""SB3's `stable_baselines3.common.callbacks`: re-exports `rl.core.callbacks`."""
from ..core.callbacks import *  # noqa: F401,F403
from ..core.callbacks import __all__  # noqa: F401
