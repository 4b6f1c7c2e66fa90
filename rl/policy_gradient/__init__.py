"""Policy-gradient algorithms: REINFORCE, A2C, PPO."""
from .ppo import PPO

__all__ = ["PPO"]
