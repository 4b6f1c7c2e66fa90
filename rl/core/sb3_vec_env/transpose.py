"""VecTransposeImage (SB3 API): channel-last image observations (H, W, C) -> channel-first (C, H, W).

The space and array logic is shared with the Gymnasium-vector wrapper that agents use internally
(`rl.core.vec_transpose`); this class applies it to SB3-style VecEnvs, terminal observations included."""

from __future__ import annotations

import numpy as np

from ..preprocessing import transpose_image
from ..vec_transpose import transpose_box, transpose_observations, transposed_space
from .base import VecEnvWrapper

__all__ = ["VecTransposeImage"]


class VecTransposeImage(VecEnvWrapper):
    """(n_envs, H, W, C) -> (n_envs, C, H, W); for Dict observations every channel-last image key.
    skip=True wraps without transposing."""

    def __init__(self, venv, skip: bool = False):
        self.skip = bool(skip)
        space, self.image_space_keys = transposed_space(venv.observation_space, skip)
        super().__init__(venv, observation_space=space)

    @staticmethod
    def transpose_space(observation_space, key: str = ""):
        return transpose_box(observation_space, key)

    @staticmethod
    def transpose_image(image: np.ndarray) -> np.ndarray:
        return transpose_image(image)

    def transpose_observations(self, observations):
        return transpose_observations(observations, self.image_space_keys, self.skip)

    def step_wait(self):
        observations, rewards, dones, infos = self.venv.step_wait()
        for i in np.flatnonzero(dones):
            if "terminal_observation" in infos[i]:
                infos[i]["terminal_observation"] = self.transpose_observations(infos[i]["terminal_observation"])
        return self.transpose_observations(observations), rewards, dones, infos

    def reset(self):
        return self.transpose_observations(self.venv.reset())
