"""Off-policy actor-critic algorithms for continuous actions, DDPG, TD3 and SAC, with their policies."""
from .ddpg import DDPG
from .policies import SACCnnPolicy, SACMultiInputPolicy, SACPolicy, TD3CnnPolicy, TD3MultiInputPolicy, TD3Policy
from .sac import SAC
from .td3 import TD3

__all__ = ["DDPG", "TD3", "SAC", "SACPolicy", "TD3Policy", "SACCnnPolicy", "SACMultiInputPolicy", "TD3CnnPolicy",
           "TD3MultiInputPolicy"]
