"""SB3's `stable_baselines3.her.goal_selection_strategy`."""
from ..multi_goal.her import KEY_TO_GOAL_STRATEGY, GoalSelectionStrategy

__all__ = ["GoalSelectionStrategy", "KEY_TO_GOAL_STRATEGY"]
