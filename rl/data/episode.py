"""One recorded episode in Minari's layout, and the checks every episode passes before it is written or used.

An episode of N steps holds (Minari's `EpisodeData`):

    observations  (N + 1, *obs_shape)   the reset observation, then one per step (the last one is final)
    actions       (N, *action_shape)
    rewards       (N,)
    terminations  (N,) bool             only the last step may be True
    truncations   (N,) bool             only the last step may be True
    infos         dict of arrays (N + 1, ...) or None
    seed          the env's reset seed, or None

Dict observation spaces give a dict of such arrays for `observations`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np

__all__ = ["Episode", "DatasetError", "check_episode"]


class DatasetError(ValueError):
    """A dataset cannot be used: names the file, the episode and the field."""


@dataclass
class Episode:
    """One episode (shapes in the module docstring)."""

    observations: np.ndarray | dict
    actions: np.ndarray
    rewards: np.ndarray
    terminations: np.ndarray
    truncations: np.ndarray
    infos: dict | None = field(default=None)
    seed: int | None = None

    def __len__(self) -> int:
        return len(self.rewards)

    @property
    def episode_return(self) -> float:
        return float(np.sum(self.rewards))


def _fail(where: str, message: str):
    raise DatasetError(f"{where}: {message}")


def _check_values(where: str, values, space: gym.Space, length: int) -> None:
    """`values` must be `length` elements of `space` (shape, dtype kind, range of discrete values, finite)."""
    if isinstance(space, gym.spaces.Dict):
        if not isinstance(values, dict) or set(values) != set(space.spaces):
            got = sorted(values) if isinstance(values, dict) else type(values).__name__
            _fail(where, f"expected a dict with keys {sorted(space.spaces)}, got {got}")
        for key, sub in space.spaces.items():
            _check_values(f"{where}/{key}", values[key], sub, length)
        return
    arr = np.asarray(values)
    expected = (length, *space.shape)
    if arr.shape != expected:
        _fail(where, f"has shape {arr.shape}; expected {expected} ({length} entries of {space})")
    if arr.dtype.kind not in "biuf":
        _fail(where, f"has dtype {arr.dtype}; expected numbers for {space}")
    if isinstance(space, gym.spaces.Box):
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            row = int(np.flatnonzero(~np.isfinite(arr.reshape(length, -1)).all(axis=1))[0])
            _fail(where, f"holds NaN or inf (first at index {row})")
        return
    if arr.dtype.kind == "f" and not np.array_equal(arr, np.round(arr)):
        _fail(where, f"has non-integer values for {space}")
    if isinstance(space, gym.spaces.Discrete):
        low, high = int(space.start), int(space.start) + int(space.n) - 1
    elif isinstance(space, gym.spaces.MultiDiscrete):
        low, high = space.start, space.start + space.nvec - 1
    else:  # MultiBinary
        low, high = 0, 1
    if arr.size and (np.any(arr < low) or np.any(arr > high)):
        _fail(where, f"has values outside {space}: min {arr.min()}, max {arr.max()}")


def _check_flags(where: str, flags, length: int) -> np.ndarray:
    arr = np.asarray(flags)
    if arr.shape != (length,):
        _fail(where, f"has shape {arr.shape}; expected ({length},)")
    if arr.dtype != np.bool_ and not (arr.dtype.kind in "iu" and np.isin(arr, (0, 1)).all()):
        _fail(where, f"has dtype {arr.dtype}; expected bool")
    arr = arr.astype(bool)
    if arr[:-1].any():
        _fail(where, f"is True at step {int(np.flatnonzero(arr[:-1])[0])} of {length}: an episode ends at its "
                     "last step only")
    return arr


def check_episode(episode: Episode, observation_space: gym.Space, action_space: gym.Space,
                  where: str = "episode") -> None:
    """DatasetError naming `where`/field unless `episode` fits the spaces and Minari's layout."""
    rewards = np.asarray(episode.rewards)
    if rewards.ndim != 1 or rewards.shape[0] < 1:
        _fail(f"{where}/rewards", f"has shape {rewards.shape}; expected (N,) with N >= 1 steps")
    n = rewards.shape[0]
    if rewards.dtype.kind not in "biuf":
        _fail(f"{where}/rewards", f"has dtype {rewards.dtype}; expected numbers")
    if not np.isfinite(rewards).all():
        _fail(f"{where}/rewards", f"holds NaN or inf (first at step {int(np.flatnonzero(~np.isfinite(rewards))[0])})")
    _check_values(f"{where}/observations", episode.observations, observation_space, n + 1)
    _check_values(f"{where}/actions", episode.actions, action_space, n)
    _check_flags(f"{where}/terminations", episode.terminations, n)
    _check_flags(f"{where}/truncations", episode.truncations, n)
    if episode.infos is not None and not isinstance(episode.infos, dict):
        _fail(f"{where}/infos", f"expected a dict of arrays, got {type(episode.infos).__name__}")
