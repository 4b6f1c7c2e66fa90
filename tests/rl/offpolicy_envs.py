"""Tiny envs for off-policy tests: a step counter that ends by termination or by a time limit."""
import gymnasium as gym
import numpy as np


class CounterEnv(gym.Env):
    """Observation [t] (t = steps since reset, float32); reward 1; terminated when t == terminate_at,
    truncated when t == truncate_at (whichever comes first; both flags when they coincide)."""

    def __init__(self, terminate_at: int | None = None, truncate_at: int | None = 5, discrete: bool = False):
        self.observation_space = gym.spaces.Box(0.0, 1000.0, (1,), np.float32)
        self.action_space = gym.spaces.Discrete(2) if discrete else gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.terminate_at, self.truncate_at = terminate_at, truncate_at
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        terminated = self.terminate_at is not None and self.t >= self.terminate_at
        truncated = self.truncate_at is not None and self.t >= self.truncate_at
        return np.array([self.t], np.float32), 1.0, terminated, truncated, {}
