"""Tabular methods for small Discrete MDPs (FrozenLake, CliffWalking, Taxi)."""

from rl.tabular.q_learning import QLearning
from rl.tabular.value_iteration import ValueIteration

__all__ = ["QLearning", "ValueIteration"]
