"""SB3's `stable_baselines3.common.off_policy_algorithm`: re-exports `rl.core.off_policy_algorithm`."""
from ..core.off_policy_algorithm import *  # noqa: F401,F403
from ..core.off_policy_algorithm import __all__  # noqa: F401
