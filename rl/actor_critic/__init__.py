"""Off-policy actor-critic algorithms for continuous actions: DDPG, TD3, SAC."""
from .ddpg import DDPG
from .sac import SAC
from .td3 import TD3

__all__ = ["DDPG", "TD3", "SAC"]
