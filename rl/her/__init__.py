"""SB3's `stable_baselines3.her`: `HerReplayBuffer` and `GoalSelectionStrategy`, from `rl.multi_goal`."""
from .goal_selection_strategy import GoalSelectionStrategy
from .her_replay_buffer import HerReplayBuffer

__all__ = ["HerReplayBuffer", "GoalSelectionStrategy"]
