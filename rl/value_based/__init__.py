"""Value-based algorithms: DQN and Double DQN."""
from .double_dqn import DoubleDQN
from .dqn import DQN

__all__ = ["DQN", "DoubleDQN"]
