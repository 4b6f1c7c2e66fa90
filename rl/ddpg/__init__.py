"""SB3's `stable_baselines3.ddpg`: `DDPG` and its policy aliases, re-exported from `rl.off_policy_actor_critic`."""
from ..off_policy_actor_critic import DDPG
from .policies import CnnPolicy, MlpPolicy, MultiInputPolicy

__all__ = ["DDPG", "MlpPolicy", "CnnPolicy", "MultiInputPolicy"]
