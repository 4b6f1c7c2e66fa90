"""SB3's `stable_baselines3.common.on_policy_algorithm`: re-exports `rl.core.on_policy_algorithm`."""
from ..core.on_policy_algorithm import *  # noqa: F401,F403
from ..core.on_policy_algorithm import __all__  # noqa: F401
