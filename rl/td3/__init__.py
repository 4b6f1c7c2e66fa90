"""SB3's `stable_baselines3.td3`: `TD3` and its policy aliases, re-exported from `rl.off_policy_actor_critic`."""
from ..off_policy_actor_critic import TD3
from .policies import CnnPolicy, MlpPolicy, MultiInputPolicy

__all__ = ["TD3", "MlpPolicy", "CnnPolicy", "MultiInputPolicy"]
