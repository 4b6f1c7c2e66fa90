"""SB3's `stable_baselines3.dqn`: `DQN` and its policy aliases, re-exported from `rl.value_based`."""
from ..value_based import DQN
from .policies import CnnPolicy, MlpPolicy, MultiInputPolicy

__all__ = ["DQN", "MlpPolicy", "CnnPolicy", "MultiInputPolicy"]
