"""Policy-gradient algorithms: REINFORCE, A2C, PPO (one readable file each)."""
from .a2c import A2C
from .ppo import PPO
from .reinforce import REINFORCE

__all__ = ["REINFORCE", "A2C", "PPO"]
