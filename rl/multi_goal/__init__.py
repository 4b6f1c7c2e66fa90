"""Goal-conditioned RL: Hindsight Experience Replay as a replay buffer for DQN, DDPG, TD3 and SAC."""

from .her import KEY_TO_GOAL_STRATEGY, GoalSelectionStrategy, HerReplayBuffer

__all__ = ["HerReplayBuffer", "GoalSelectionStrategy", "KEY_TO_GOAL_STRATEGY"]
