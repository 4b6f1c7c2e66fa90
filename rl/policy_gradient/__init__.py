"""Policy-gradient algorithms, REINFORCE, A2C and PPO (one readable file each), and their actor-critic policy."""
from .a2c import A2C
from .policies import (
    ActorCriticCnnPolicy,
    ActorCriticPolicy,
    CnnPolicy,
    MlpPolicy,
    MultiInputActorCriticPolicy,
    MultiInputPolicy,
)
from .ppo import PPO
from .reinforce import REINFORCE

__all__ = ["REINFORCE", "A2C", "PPO", "ActorCriticPolicy", "ActorCriticCnnPolicy", "MultiInputActorCriticPolicy",
           "MlpPolicy", "CnnPolicy", "MultiInputPolicy"]
