"""Value-based algorithms, DQN and Double DQN, and their Q-network policy."""
from .double_dqn import DoubleDQN
from .dqn import DQN
from .policies import DQNPolicy, QNetwork

__all__ = ["DQN", "DoubleDQN", "DQNPolicy", "QNetwork"]
