"""SB3's `stable_baselines3.ppo.policies`: MlpPolicy / CnnPolicy / MultiInputPolicy (actor-critic policies)."""
from ..policy_gradient.policies import CnnPolicy, MlpPolicy, MultiInputPolicy

__all__ = ["MlpPolicy", "CnnPolicy", "MultiInputPolicy"]
