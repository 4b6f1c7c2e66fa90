"""What the offline algorithms (BC, CQL) share: a dataset that fixes or is checked against the agent's spaces,
and the start of learn(), which has no env to reset (`num_timesteps` counts gradient steps).

    class BC(OfflineLearning, BaseAlgorithm): ...

    def learn(self, total_timesteps, callback=None, ...):
        total_timesteps, callback = self._setup_offline_learn(total_timesteps, callback, reset_num_timesteps,
                                                              tb_log_name, progress_bar)
        callback.on_training_start(locals(), globals())

`check_dataset_spaces` is also GAIL's check of its demonstrations.
"""

from __future__ import annotations

import time

import gymnasium as gym

from ..data.dataset_argument import as_flat_dataset
from .callbacks import BaseCallback, CallbackList, ProgressBarCallback, convert_callback
from .logger import configure_logger

__all__ = ["OfflineLearning", "check_dataset_spaces", "start_logger_and_callback"]


def check_dataset_spaces(data, observation_space: gym.Space, action_space: gym.Space,
                         whose: str = "dataset's") -> None:
    """ValueError unless `data` (a FlatDataset) has spaces of the agent's types and shapes (and n, if Discrete)."""
    for saved, ours, kind in ((data.observation_space, observation_space, "observation"),
                              (data.action_space, action_space, "action")):
        if type(saved) is not type(ours) or saved.shape != ours.shape or \
                getattr(saved, "n", None) != getattr(ours, "n", None):
            raise ValueError(f"the {whose} {kind} space {saved} does not fit this agent's {ours}")


def start_logger_and_callback(model, callback, tb_log_name: str, reset_num_timesteps: bool,
                              progress_bar: bool) -> BaseCallback:
    """Configure `model`'s logger (unless set_logger gave it one) and return `callback` (None, a callable, a
    list or a BaseCallback; with a progress bar if asked) initialised on `model`."""
    if not getattr(model, "_custom_logger", False):
        model._logger = configure_logger(model.verbose, model.tensorboard_log, tb_log_name, reset_num_timesteps)
    callback = convert_callback(callback)
    if progress_bar:
        callback = CallbackList([callback, ProgressBarCallback()])
    callback.init_callback(model)
    return callback


class OfflineLearning:
    """Mixin (before the algorithm's base class) for an algorithm that learns from `self.dataset`, a FlatDataset
    (`rl.data.as_flat_dataset` of an id, a folder or an OfflineDataset)."""

    algo_name: str
    dataset = None

    def _use_dataset_spaces(self, env) -> None:
        """Without an env, take the spaces (and env_id) from the dataset; with one, check the dataset fits it."""
        if self.dataset is None:
            return
        if env is None:
            self.observation_space = self.dataset.observation_space
            self.action_space = self.dataset.action_space
            self.env_id = self.dataset.env_id
            self._check_spaces()
        else:
            self._check_dataset(self.dataset)

    def _check_dataset(self, data) -> None:
        check_dataset_spaces(data, self.observation_space, self.action_space)

    def set_dataset(self, dataset) -> None:
        """Train on another dataset (same spaces) from now on."""
        data = as_flat_dataset(dataset)
        self._check_dataset(data)
        self.dataset = data

    def _setup_offline_learn(self, total_timesteps: int, callback, reset_num_timesteps: bool, tb_log_name: str,
                             progress_bar: bool) -> tuple[int, BaseCallback]:
        """learn()'s start: counters (the target is absolute, as SB3's), logger and callback -> (target, callback)."""
        if self.dataset is None:
            raise ValueError(f"{self.algo_name}.learn needs a dataset: {self.algo_name}(..., dataset=ID|PATH) or "
                             "model.set_dataset(...)")
        self.start_time = time.time_ns()
        if reset_num_timesteps:
            self.num_timesteps = 0
        self._num_timesteps_at_start = self.num_timesteps
        self._total_timesteps = int(total_timesteps) + (0 if reset_num_timesteps else self.num_timesteps)
        callback = start_logger_and_callback(self, callback, tb_log_name, reset_num_timesteps, progress_bar)
        return self._total_timesteps, callback
