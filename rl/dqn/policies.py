"""SB3's `stable_baselines3.dqn.policies`: QNetwork, DQNPolicy and the aliases."""
from ..value_based.policies import CnnPolicy, DQNPolicy, MlpPolicy, MultiInputPolicy, QNetwork

__all__ = ["QNetwork", "DQNPolicy", "MlpPolicy", "CnnPolicy", "MultiInputPolicy"]
