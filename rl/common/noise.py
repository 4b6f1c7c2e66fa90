"""SB3's `stable_baselines3.common.noise`: re-exports `rl.core.noise`."""
from ..core.noise import *  # noqa: F401,F403
from ..core.noise import __all__  # noqa: F401
