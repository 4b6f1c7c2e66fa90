"""VecMonitor: SB3's episode statistics for a whole VecEnv: infos[i]["episode"] = {"r", "l", "t"} when
sub-env i finishes an episode, optionally one row per episode in a monitor CSV file.

The CSV has SB3's layout (a `#{"t_start": ..., "env_id": ...}` JSON comment line, then `r,l,t` and the
`info_keywords` columns) so `load_results` reads it; it is written by the Monitor's writer
(`rl.core.monitor.ResultsWriter`)."""

from __future__ import annotations

import os
import time

import numpy as np

from ..monitor import ResultsWriter
from .base import VecEnvWrapper

__all__ = ["VecMonitor"]

class VecMonitor(VecEnvWrapper):
    """filename: None, or a path for the monitor CSV; info_keywords: info keys also written per episode."""

    def __init__(self, venv, filename: str | None = None, info_keywords: tuple = ()):
        super().__init__(venv)
        self.t_start = time.time()
        self.info_keywords = tuple(info_keywords)
        self.episode_returns = np.zeros(self.num_envs, np.float64)
        self.episode_lengths = np.zeros(self.num_envs, np.int64)
        self.episode_count = 0
        self.results_writer = None
        if filename is not None:
            env_id = None
            try:
                spec = venv.get_attr("spec", indices=[0])[0]
                env_id = getattr(spec, "id", None)
            except AttributeError:
                pass
            self.results_writer = ResultsWriter(os.fspath(filename), header={"t_start": self.t_start,
                                                                             "env_id": env_id},
                                                extra_keys=self.info_keywords)

    def reset(self):
        observations = self.venv.reset()
        self.episode_returns[:] = 0.0
        self.episode_lengths[:] = 0
        return observations

    def step_wait(self):
        observations, rewards, dones, infos = self.venv.step_wait()
        self.episode_returns += rewards
        self.episode_lengths += 1
        new_infos = list(infos[:])
        for i in np.flatnonzero(dones):
            info = dict(infos[i])
            episode = {"r": round(float(self.episode_returns[i]), 6), "l": int(self.episode_lengths[i]),
                       "t": round(time.time() - self.t_start, 6)}
            for key in self.info_keywords:
                episode[key] = info[key]
            info["episode"] = episode
            self.episode_count += 1
            self.episode_returns[i], self.episode_lengths[i] = 0.0, 0
            if self.results_writer is not None:
                self.results_writer.write_row(episode)
            new_infos[i] = info
        return observations, rewards, dones, new_infos

    def close(self) -> None:
        if self.results_writer is not None:
            self.results_writer.close()
        return self.venv.close()
