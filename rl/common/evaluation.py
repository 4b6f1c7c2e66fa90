"""SB3's `stable_baselines3.common.evaluation`: re-exports `rl.core.evaluation` (`evaluate_policy`)."""
from ..core.evaluation import *  # noqa: F401,F403
from ..core.evaluation import __all__  # noqa: F401
