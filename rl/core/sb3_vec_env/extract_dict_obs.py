"""VecExtractDictObs: SB3's wrapper that keeps one key of Dict observations."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from .base import VecEnvWrapper

__all__ = ["VecExtractDictObs"]


class VecExtractDictObs(VecEnvWrapper):
    """Observations {key: (n_envs, *shape), ...} -> the array under `key` (terminal observations too)."""

    def __init__(self, venv, key: str):
        space = venv.observation_space
        if not isinstance(space, spaces.Dict) or key not in space.spaces:
            raise ValueError(f"VecExtractDictObs needs a Dict observation space with the key {key!r}, got {space}")
        self.key = key
        super().__init__(venv, observation_space=space.spaces[key])

    def reset(self):
        return self.venv.reset()[self.key]

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        for i in np.flatnonzero(dones):
            if "terminal_observation" in infos[i]:
                infos[i]["terminal_observation"] = infos[i]["terminal_observation"][self.key]
        return obs[self.key], rewards, dones, infos
