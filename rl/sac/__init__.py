"""SB3's `stable_baselines3.sac`: `SAC` and its policy aliases, re-exported from `rl.off_policy_actor_critic`."""
from ..off_policy_actor_critic import SAC
from .policies import CnnPolicy, MlpPolicy, MultiInputPolicy

__all__ = ["SAC", "MlpPolicy", "CnnPolicy", "MultiInputPolicy"]
