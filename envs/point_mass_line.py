"""A point mass on a line that must be brought back to 0 (mbrl-lib's MockLineEnv, the shape of its MBPO test).

    obs = (position, velocity), starts at (1, 0);  action a in [-1, 1]
    velocity += a;  position += velocity;  reward = -reward_scale * position^2
    the episode is truncated after episode_length (30) steps; it never terminates

Doing nothing scores -30 * reward_scale; bringing the mass to 0 and holding it there scores close to
-1 * reward_scale. mbrl-lib's test asks MBPO for a return above -20 * reward_scale.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

__all__ = ["PointMassLineEnv"]


class PointMassLineEnv(gym.Env):
    """1-D point mass; Box(2,) observations, Box(-1, 1, (1,)) actions, truncation after `episode_length` steps."""

    metadata = {"render_modes": []}

    def __init__(self, episode_length: int = 30, reward_scale: float = 1e-3):
        if int(episode_length) < 1 or not reward_scale > 0:
            raise ValueError(f"episode_length must be >= 1 and reward_scale > 0, got {episode_length}, {reward_scale}")
        self.episode_length, self.reward_scale = int(episode_length), float(reward_scale)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self._pos = self._vel = 0.0
        self._t = 0

    def _obs(self) -> np.ndarray:
        return np.array([self._pos, self._vel], np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._pos, self._vel, self._t = 1.0, 0.0, 0
        return self._obs(), {}

    def step(self, action):
        a = float(np.clip(np.asarray(action, np.float64).reshape(-1)[0], -1.0, 1.0))
        self._vel += a
        self._pos += self._vel
        self._t += 1
        reward = -self.reward_scale * self._pos ** 2
        return self._obs(), reward, False, self._t >= self.episode_length, {}
