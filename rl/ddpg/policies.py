"""SB3's `stable_baselines3.ddpg.policies`: DDPG uses TD3's policies."""
from ..td3.policies import CnnPolicy, MlpPolicy, MultiInputPolicy

__all__ = ["MlpPolicy", "CnnPolicy", "MultiInputPolicy"]
