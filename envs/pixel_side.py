"""PixelSide: a small pixel-observation task for image policies (CnnPolicy, MultiInputPolicy with an image).

Every step shows a white square (dot_size x dot_size) at a random place in the left or the right half of a
black size x size RGB image, uint8 (H, W, C). The agent names the side:
  discrete   (corenn/PixelSide-v0):           Discrete(2), 0 = left, 1 = right; reward 1 if right, else 0
  continuous (corenn/PixelSideContinuous-v0): Box(-1, 1, (1,)), negative = left; reward a * (+1 right, -1 left)
An episode is `episode_length` steps (default 10, then truncated); a new dot is drawn after every step, so
steps are independent and the best return is episode_length (a random policy gets half of it, discrete).
observation_mode="dict" gives {"image": (H, W, C) uint8, "time": (1,) float32 fraction of the episode done}.

size must be at least 36 for NatureCNN (8x8 stride 4, 4x4 stride 2, 3x3 stride 1: 36 -> 8 -> 3 -> 1).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

__all__ = ["PixelSideEnv"]


class PixelSideEnv(gym.Env):
    """Say on which side of the image the dot is. See the module docstring."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, size: int = 36, dot_size: int = 6, continuous: bool = False, episode_length: int = 10,
                 observation_mode: str = "image", render_mode: str | None = None):
        for name, value, low in (("size", size, 4), ("dot_size", dot_size, 1), ("episode_length", episode_length, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if 2 * dot_size > size:
            raise ValueError(f"dot_size ({dot_size}) must fit in half the image (size {size})")
        if observation_mode not in ("image", "dict"):
            raise ValueError(f"observation_mode must be 'image' or 'dict', got {observation_mode!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.size, self.dot_size, self.continuous = int(size), int(dot_size), bool(continuous)
        self.episode_length = int(episode_length)
        self.observation_mode, self.render_mode = observation_mode, render_mode
        image = spaces.Box(0, 255, (self.size, self.size, 3), np.uint8)
        if observation_mode == "dict":
            self.observation_space = spaces.Dict({"image": image, "time": spaces.Box(0.0, 1.0, (1,), np.float32)})
        else:
            self.observation_space = image
        self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32) if self.continuous else spaces.Discrete(2)
        self._image = np.zeros((self.size, self.size, 3), np.uint8)
        self._right = False
        self._t = 0

    def _draw(self) -> None:
        """A new dot: side, then its top-left corner inside that half."""
        half, d = self.size // 2, self.dot_size
        self._right = bool(self.np_random.integers(2))
        x0 = int(self.np_random.integers(half, self.size - d + 1)) if self._right else \
            int(self.np_random.integers(0, half - d + 1))
        y0 = int(self.np_random.integers(0, self.size - d + 1))
        self._image[...] = 0
        self._image[y0:y0 + d, x0:x0 + d] = 255

    def _obs(self):
        image = self._image.copy()
        if self.observation_mode == "dict":
            return {"image": image, "time": np.array([self._t / self.episode_length], np.float32)}
        return image

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._t = 0
        self._draw()
        return self._obs(), {}

    def step(self, action):
        if self.continuous:
            a = float(np.clip(np.asarray(action, np.float32).reshape(-1)[0], -1.0, 1.0))
            reward = a if self._right else -a
            correct = (a > 0) == self._right
        else:
            if not self.action_space.contains(int(np.asarray(action).reshape(-1)[0])):
                raise ValueError(f"action must be 0 (left) or 1 (right), got {action!r}")
            correct = bool(int(np.asarray(action).reshape(-1)[0])) == self._right
            reward = float(correct)
        self._t += 1
        truncated = self._t >= self.episode_length
        self._draw()
        return self._obs(), float(reward), False, truncated, {"correct": bool(correct)}

    def render(self):
        if self.render_mode == "rgb_array":
            return self._image.copy()
        return None
