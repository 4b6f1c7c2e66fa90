"""GoalEnv: the Gymnasium-Robotics goal-conditioned contract, shared by ArmReach and BitFlipping.

Observations are dicts {observation, achieved_goal, desired_goal}. ``compute_reward``,
``compute_terminated`` and ``compute_truncated`` take ``(achieved_goal, desired_goal, info)``
with goals of shape (..., goal_dim) and return arrays of shape (...), so HER can relabel a
whole batch in one call. ``info`` is ignored (it may be a dict, a list of dicts or None).
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

GOAL_KEYS = ("observation", "achieved_goal", "desired_goal")


def goal_distance(achieved_goal, desired_goal) -> np.ndarray:
    """Euclidean distance over the last axis: (..., g), (..., g) -> (...)."""
    diff = np.asarray(achieved_goal, dtype=np.float64) - np.asarray(desired_goal, dtype=np.float64)
    return np.linalg.norm(diff, axis=-1)


class GoalEnv(gym.Env):
    """Base class: distance-threshold success, sparse -(d > threshold) or dense -d reward.

    Subclasses set ``observation_space`` (a Dict with GOAL_KEYS), ``distance_threshold``,
    ``reward_type`` ("sparse" or "dense") and ``terminate_on_success``.
    """

    distance_threshold: float = 0.05
    reward_type: str = "sparse"
    terminate_on_success: bool = False

    def reset(self, *, seed=None, options=None):
        """Seed ``np_random`` and check the observation space; subclasses build the observation."""
        super().reset(seed=seed, options=options)
        if not isinstance(self.observation_space, spaces.Dict) or any(
            k not in self.observation_space.spaces for k in GOAL_KEYS
        ):
            raise gym.error.Error(f"GoalEnv needs a Dict observation space with keys {GOAL_KEYS}")
        return None

    def _check_reward_type(self) -> None:
        if self.reward_type not in ("sparse", "dense"):
            raise ValueError(f"reward_type must be 'sparse' or 'dense', got {self.reward_type!r}")

    def compute_success(self, achieved_goal, desired_goal) -> np.ndarray:
        """(..., g), (..., g) -> bool (...): d <= threshold, i.e. exactly where the sparse reward is 0."""
        return ~(goal_distance(achieved_goal, desired_goal) > self.distance_threshold)

    def compute_reward(self, achieved_goal, desired_goal, info) -> np.ndarray:
        """(..., g), (..., g), info -> float32 (...): sparse -(d > threshold) or dense -d."""
        d = goal_distance(achieved_goal, desired_goal)
        if self.reward_type == "sparse":
            return -(d > self.distance_threshold).astype(np.float32)
        return -d.astype(np.float32)

    def compute_terminated(self, achieved_goal, desired_goal, info) -> np.ndarray:
        """(..., g), (..., g), info -> bool (...): success if ``terminate_on_success`` else all False."""
        if self.terminate_on_success:
            return self.compute_success(achieved_goal, desired_goal)
        return np.zeros(np.shape(achieved_goal)[:-1], dtype=bool)

    def compute_truncated(self, achieved_goal, desired_goal, info) -> np.ndarray:
        """(..., g), (..., g), info -> bool (...): always False; the time limit is a TimeLimit wrapper."""
        return np.zeros(np.shape(achieved_goal)[:-1], dtype=bool)

    def _step_outcome(self, obs: dict, info: dict):
        """Reward, terminated, truncated as Python scalars for one observation, via the batched methods."""
        ag, g = obs["achieved_goal"], obs["desired_goal"]
        reward = float(self.compute_reward(ag, g, info))
        terminated = bool(self.compute_terminated(ag, g, info))
        truncated = bool(self.compute_truncated(ag, g, info))
        return reward, terminated, truncated
