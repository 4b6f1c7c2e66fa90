"""SB3's `stable_baselines3.common.utils`: schedules, polyak updates and run ids re-exported from `rl.core`,
plus the small helpers SB3 scripts call (`set_random_seed`, `get_linear_fn`, `safe_mean`, ...) on corenn.

Differences: `get_device` always answers "cpu" (corenn has no accelerator); `obs_as_tensor` returns float32
corenn Tensors (a dict of them for dict observations); `set_random_seed` seeds Python, NumPy and corenn
(`using_cuda` is accepted and ignored).
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import gymnasium as gym
import numpy as np

import corenn

from ..core.logger import configure_logger, get_latest_run_id
from ..core.on_policy_algorithm import OnPolicyAlgorithm
from ..core.polyak import polyak_update
from ..core.schedules import ConstantSchedule, LinearSchedule, constant_fn, get_schedule_fn

__all__ = ["set_random_seed", "get_linear_fn", "constant_fn", "get_schedule_fn", "ConstantSchedule", "LinearSchedule",
           "FloatSchedule", "polyak_update", "explained_variance", "safe_mean", "get_device", "update_learning_rate",
           "zip_strict", "obs_as_tensor", "get_parameters_by_name", "get_latest_run_id", "configure_logger",
           "check_for_correct_spaces", "check_shape_equal", "is_vectorized_observation",
           "should_collect_more_steps"]

explained_variance = OnPolicyAlgorithm.explained_variance


def set_random_seed(seed: int, using_cuda: bool = False) -> None:
    """Seed Python's `random`, NumPy's global generator and corenn (`corenn.manual_seed`)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    corenn.manual_seed(int(seed))


def get_linear_fn(start: float, end: float, end_fraction: float) -> LinearSchedule:
    """progress_remaining -> start at 1, linearly to `end` once `end_fraction` of training is done, then `end`."""
    return LinearSchedule(start, end, end_fraction)


class FloatSchedule:
    """Wraps a schedule (or a constant) so that it always returns a Python float (SB3 2.x)."""

    def __init__(self, value_schedule):
        self.value_schedule = value_schedule if callable(value_schedule) else ConstantSchedule(float(value_schedule))

    def __call__(self, progress_remaining: float) -> float:
        return float(self.value_schedule(progress_remaining))


def safe_mean(arr) -> float:
    """Mean of `arr`, nan (not a warning) when it is empty."""
    arr = np.asarray(arr, dtype=np.float64)
    return float("nan") if arr.size == 0 else float(np.mean(arr))


def get_device(device="auto") -> str:
    """Always "cpu": corenn runs on the CPU; any other explicit device is a ValueError."""
    if str(device).split(":")[0] not in ("auto", "cpu"):
        raise ValueError(f"corenn runs on the CPU only, got device {device!r}")
    return "cpu"


def update_learning_rate(optimizer, learning_rate: float) -> None:
    """Set every parameter group's learning rate."""
    for group in optimizer.param_groups:
        group["lr"] = float(learning_rate)


def zip_strict(*iterables: Iterable):
    """zip that raises ValueError when the iterables differ in length."""
    return zip(*iterables, strict=True)


def obs_as_tensor(obs, device=None):
    """Observations (ndarray or dict of ndarrays) -> float32 corenn Tensors (same structure)."""
    if isinstance(obs, dict):
        return {k: corenn.as_tensor(np.asarray(v), np.float32) for k, v in obs.items()}
    if isinstance(obs, (np.ndarray, corenn.Tensor, list, tuple, int, float)):
        return corenn.as_tensor(np.asarray(obs), np.float32)
    raise TypeError(f"unrecognised observation type {type(obs).__name__}")


def get_parameters_by_name(model, included_names: Iterable[str]) -> list:
    """Parameters and buffers of `model` (a corenn Module) whose state-dict name contains one of `included_names`,
    as the live arrays (in place updates reach the model)."""
    names = list(included_names)
    found = [p.data for n, p in model.named_parameters() if any(k in n for k in names)]
    found += [b for n, b in model.named_buffers() if b is not None and any(k in n for k in names)]
    return found


def check_shape_equal(space1: gym.Space, space2: gym.Space) -> None:
    """ValueError when two spaces (Dicts recursively) differ in shape."""
    if isinstance(space1, gym.spaces.Dict):
        if not isinstance(space2, gym.spaces.Dict) or space1.spaces.keys() != space2.spaces.keys():
            raise ValueError(f"Dict spaces differ: {space1} != {space2}")
        for key in space1.spaces:
            check_shape_equal(space1[key], space2[key])
    elif space1.shape != space2.shape:
        raise ValueError(f"spaces have different shapes: {space1.shape} != {space2.shape}")


def check_for_correct_spaces(env, observation_space: gym.Space, action_space: gym.Space) -> None:
    """ValueError unless `env` (a Gymnasium env or vector env) has these spaces."""
    obs = getattr(env, "single_observation_space", None) or env.observation_space
    act = getattr(env, "single_action_space", None) or env.action_space
    if obs != observation_space:
        raise ValueError(f"Observation spaces do not match: {observation_space} != {obs}")
    if act != action_space:
        raise ValueError(f"Action spaces do not match: {action_space} != {act}")


def is_vectorized_observation(observation, observation_space: gym.Space) -> bool:
    """True for a batch of observations, False for one; ValueError for a shape that is neither."""
    if isinstance(observation_space, gym.spaces.Dict):
        flags = {is_vectorized_observation(observation[k], s) for k, s in observation_space.spaces.items()}
        if len(flags) != 1:
            raise ValueError("Dict observation mixes single and batched entries")
        return flags.pop()
    shape, single = np.shape(observation), tuple(observation_space.shape)
    if shape == single:
        return False
    if shape[1:] == single:
        return True
    raise ValueError(f"observation has shape {shape}; expected {single} or (n_env, {', '.join(map(str, single))})")


def should_collect_more_steps(train_freq, num_collected_steps: int, num_collected_episodes: int) -> bool:
    """SB3's rule for off-policy rollouts: `train_freq` is a TrainFreq (frequency, unit "step" or "episode")."""
    frequency, unit = train_freq
    unit = getattr(unit, "value", unit)
    if unit == "step":
        return num_collected_steps < frequency
    if unit == "episode":
        return num_collected_episodes < frequency
    raise ValueError(f"train_freq unit must be 'step' or 'episode', got {unit!r}")

