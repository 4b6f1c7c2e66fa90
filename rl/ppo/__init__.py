"""SB3's `stable_baselines3.ppo`: `PPO` and its policy aliases, re-exported from `rl.policy_gradient`."""
from ..policy_gradient import PPO
from .policies import CnnPolicy, MlpPolicy, MultiInputPolicy

__all__ = ["PPO", "MlpPolicy", "CnnPolicy", "MultiInputPolicy"]
