"""BitFlipping (Andrychowicz et al. 2017, HER): flip bits of an n-bit state to match a goal.

Spaces: observation, achieved_goal, desired_goal are float32 0/1 vectors (n_bits,); the
observation and achieved_goal are the current bits. Actions: Discrete(n_bits) flips one bit,
or with ``continuous=True`` a Box(-1, 1, (n_bits,)) flips every bit whose action is > 0.
Sparse reward: 0 when all bits match, else -1. An episode terminates on success (as in SB3);
the time limit of n_bits steps comes from registration.
"""
from __future__ import annotations

import numpy as np
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit

from envs.goal_env import GoalEnv


class BitFlippingEnv(GoalEnv):
    """n-bit flipping GoalEnv; success is an exact match (distance 0)."""

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, n_bits: int = 10, continuous: bool = False, render_mode: str | None = None):
        if n_bits < 1:
            raise ValueError(f"n_bits must be >= 1, got {n_bits}")
        self.n_bits = int(n_bits)
        self.continuous = bool(continuous)
        self.reward_type = "sparse"
        self.distance_threshold = 0.0
        self.terminate_on_success = True
        bits = spaces.Box(0.0, 1.0, shape=(self.n_bits,), dtype=np.float32)
        self.observation_space = spaces.Dict({"observation": bits, "achieved_goal": bits, "desired_goal": bits})
        if self.continuous:
            self.action_space = spaces.Box(-1.0, 1.0, shape=(self.n_bits,), dtype=np.float32)
        else:
            self.action_space = spaces.Discrete(self.n_bits)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode = render_mode
        self.state = np.zeros(self.n_bits, dtype=np.float32)
        self.goal = np.ones(self.n_bits, dtype=np.float32)

    def _get_obs(self) -> dict:
        return {"observation": self.state.copy(), "achieved_goal": self.state.copy(),
                "desired_goal": self.goal.copy()}

    def _get_info(self, obs: dict) -> dict:
        return {"is_success": float(self.compute_success(obs["achieved_goal"], obs["desired_goal"]))}

    def reset(self, *, seed=None, options=None):
        """Random state and a different random goal; returns (obs dict, info)."""
        super().reset(seed=seed, options=options)
        self.state = self.np_random.integers(0, 2, size=self.n_bits).astype(np.float32)
        self.goal = self.np_random.integers(0, 2, size=self.n_bits).astype(np.float32)
        while np.array_equal(self.goal, self.state):
            self.goal = self.np_random.integers(0, 2, size=self.n_bits).astype(np.float32)
        obs = self._get_obs()
        return obs, self._get_info(obs)

    def step(self, action):
        """action: int bit index (or (n_bits,) floats if continuous) -> (obs, reward, terminated, truncated, info)."""
        if self.continuous:
            flip = np.asarray(action, dtype=np.float32).reshape(self.n_bits) > 0
        else:
            flip = np.zeros(self.n_bits, dtype=bool)
            flip[int(np.asarray(action).reshape(()))] = True
        self.state[flip] = 1.0 - self.state[flip]
        obs = self._get_obs()
        info = self._get_info(obs)
        reward, terminated, truncated = self._step_outcome(obs, info)
        return obs, reward, terminated, truncated, info

    def render(self):
        """ansi: the state and goal as strings of 0/1."""
        if self.render_mode != "ansi":
            return None
        bits = lambda v: "".join(str(int(b)) for b in v)  # noqa: E731
        return f"state {bits(self.state)}  goal {bits(self.goal)}"


def make_bit_flipping(n_bits: int = 10, **kwargs) -> TimeLimit:
    """Entry point for corenn/BitFlipping-v0: the env wrapped in TimeLimit(max_episode_steps=n_bits)."""
    return TimeLimit(BitFlippingEnv(n_bits=n_bits, **kwargs), max_episode_steps=int(n_bits))
