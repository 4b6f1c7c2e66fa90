"""SB3's `stable_baselines3.a2c`: `A2C` and its policy aliases, re-exported from `rl.policy_gradient`."""
from ..policy_gradient import A2C
from .policies import CnnPolicy, MlpPolicy, MultiInputPolicy

__all__ = ["A2C", "MlpPolicy", "CnnPolicy", "MultiInputPolicy"]
