"""Replay memory for Dict observations (SB3's DictReplayBuffer), the base of HerReplayBuffer.

Each key k of the Dict space gets its own preallocated arrays, observations[k] and
next_observations[k] of shape (buffer_size, n_envs, *space[k].shape) (uint8 for image keys, `dtype`
for the others); actions (size, n_envs, A), rewards and dones (size, n_envs). Samples are dicts of
(B, *shape) arrays, which the agent's preprocessor concatenates (keys in the space's sorted order)
into flat features for MultiInputPolicy, or hands to its CombinedExtractor when images are present.

As in `ReplayBuffer`, stored dones are terminations only: pass done = terminated | truncated and
the truncation flags (`truncated=` or infos["TimeLimit.truncated"]) so targets bootstrap through
time limits (handle_timeout_termination=False stores done as given).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from gymnasium import spaces

from .replay_buffer import (
    _SCALARS,
    ReplayBuffer,
    _action_dim,
    _check_entry,
    _check_keys,
    _check_range,
    _check_values,
    _rows,
    _truncation_flags,
    obs_storage_dtype,
    register_replay_buffer_class,
)

__all__ = ["DictReplayBuffer", "DictReplayBufferSamples"]


class DictReplayBufferSamples(NamedTuple):
    """observations / next_observations: {key: (B, *shape)}; actions (B, A); dones / rewards (B, 1)."""

    observations: dict
    actions: np.ndarray
    next_observations: dict
    dones: np.ndarray
    rewards: np.ndarray


def _key_shape(key: str, space: spaces.Space) -> tuple:
    if isinstance(space, (spaces.Box, spaces.MultiBinary, spaces.MultiDiscrete, spaces.Discrete)):
        return tuple(space.shape)
    raise TypeError(f"Dict observation key {key!r} has unsupported space {space}; use Box, Discrete, "
                    "MultiDiscrete or MultiBinary entries")


@register_replay_buffer_class
class DictReplayBuffer(ReplayBuffer):
    """FIFO replay memory for Dict observations with vectorised uniform sampling (ReplayBuffer's
    bookkeeping and checks; one array per observation key)."""

    def __init__(self, buffer_size: int, observation_space: spaces.Dict, action_space: spaces.Space,
                 n_envs: int = 1, optimize_memory_usage: bool = False, handle_timeout_termination: bool = True,
                 dtype=np.float32, seed=None, device: str = "auto"):
        if not isinstance(observation_space, spaces.Dict):
            raise TypeError(f"{type(self).__name__} needs a Dict observation space, got {observation_space}; "
                            "use ReplayBuffer for flat observations")
        if optimize_memory_usage:
            raise ValueError(f"{type(self).__name__} does not support optimize_memory_usage=True (as in SB3)")
        if int(buffer_size) <= 0 or int(n_envs) <= 0:
            raise ValueError(f"buffer_size and n_envs must be positive, got {buffer_size}, {n_envs}")
        self.observation_space, self.action_space = observation_space, action_space
        self.n_envs = int(n_envs)
        self.buffer_size = max(int(buffer_size) // self.n_envs, 1)
        self.optimize_memory_usage = False
        self.handle_timeout_termination = bool(handle_timeout_termination)
        self.obs_shapes = {k: _key_shape(k, s) for k, s in observation_space.spaces.items()}
        self.action_dim = _action_dim(action_space)
        self.dtype = np.dtype(dtype)
        self.rng = np.random.default_rng(seed)
        size, n = self.buffer_size, self.n_envs
        self.obs_dtypes = {k: obs_storage_dtype(observation_space[k], self.dtype) for k in self.obs_shapes}
        self.observations = {k: np.zeros((size, n, *s), self.obs_dtypes[k]) for k, s in self.obs_shapes.items()}
        self.next_observations = {k: np.zeros((size, n, *s), self.obs_dtypes[k]) for k, s in self.obs_shapes.items()}
        self.actions = np.zeros((size, n, self.action_dim), np.float32)
        self.rewards = np.zeros((size, n), np.float32)
        self.dones = np.zeros((size, n), np.float32)
        self.pos = 0
        self.full = False

    def _check_obs(self, name: str, obs) -> dict:
        if not isinstance(obs, dict):
            raise TypeError(f"{name} must be a dict of arrays with keys {sorted(self.obs_shapes)}, "
                            f"got {type(obs).__name__}")
        missing = [k for k in self.obs_shapes if k not in obs]
        if missing:
            raise ValueError(f"{name} is missing the keys {missing}")
        return {k: self._check(f"{name}[{k!r}]", obs[k], (self.n_envs, *s)) for k, s in self.obs_shapes.items()}

    def add(self, obs: dict, next_obs: dict, action, reward, done, infos=None, truncated=None) -> None:
        """Store one vector-env step: dicts of (n_envs, *shape) arrays; done = terminated | truncated."""
        pos, n = self.pos, self.n_envs
        obs, next_obs = self._check_obs("obs", obs), self._check_obs("next_obs", next_obs)
        for k in self.obs_shapes:
            self.observations[k][pos] = obs[k]
            self.next_observations[k][pos] = next_obs[k]
        self.actions[pos] = self._check("action", action, (n, self.action_dim))
        self.rewards[pos] = self._check("reward", reward, (n,))
        done = self._check("done", done, (n,)).astype(bool)
        if self.handle_timeout_termination:
            done = done & ~_truncation_flags(infos, truncated, n)
        self.dones[pos] = done
        self.pos += 1
        if self.pos == self.buffer_size:
            self.full, self.pos = True, 0

    @staticmethod
    def _take(arr: np.ndarray, flat_idx: np.ndarray) -> np.ndarray:
        """Rows of a (size, n_envs, ...) array at flat indices slot * n_envs + env (np.take: fast copy)."""
        return np.take(arr.reshape((-1,) + arr.shape[2:]), flat_idx, axis=0)

    def _gather(self, flat_idx: np.ndarray) -> DictReplayBufferSamples:
        """Stored transitions at flat indices slot * n_envs + env, (B,) ints."""
        return DictReplayBufferSamples(
            observations={k: self._take(v, flat_idx) for k, v in self.observations.items()},
            actions=self._take(self.actions, flat_idx),
            next_observations={k: self._take(v, flat_idx) for k, v in self.next_observations.items()},
            dones=self._take(self.dones, flat_idx)[:, None],
            rewards=self._take(self.rewards, flat_idx)[:, None],
        )

    def sample(self, batch_size: int, rng: np.random.Generator | None = None) -> DictReplayBufferSamples:
        """Uniform batch over all stored transitions of all sub-envs (with replacement)."""
        if self.size() == 0:
            raise ValueError(f"cannot sample from an empty {type(self).__name__}")
        rng = self.rng if rng is None else rng
        return self._gather(rng.integers(0, self.size() * self.n_envs, size=int(batch_size)))

    # ------------------------------------------------------------------ saving
    def state_dict(self) -> dict:
        """Arrays to save with the agent (only the filled part; no pickling needed)."""
        n = self.size()
        return {
            "observations": {k: v[:n].copy() for k, v in self.observations.items()},
            "next_observations": {k: v[:n].copy() for k, v in self.next_observations.items()},
            "actions": self.actions[:n].copy(), "rewards": self.rewards[:n].copy(), "dones": self.dones[:n].copy(),
            "pos": np.array(self.pos, np.int64), "full": np.array(self.full),
            "buffer_size": np.array(self.buffer_size, np.int64), "n_envs": np.array(self.n_envs, np.int64),
        }

    def check_state(self, state: dict) -> int:
        """Check a `state_dict()` (arrays or corenn ArraySpecs) against this buffer without changing it -> rows.

        Raises ValueError naming the entry (see ReplayBuffer.check_state)."""
        if not isinstance(state, dict):
            raise ValueError(f"a replay buffer state must be a dict, got {type(state).__name__}")
        _check_keys(state, {"observations", "next_observations", "actions", "rewards", "dones", *_SCALARS})
        n = _rows(state["actions"], "actions", self.buffer_size)
        names = []
        for group in ("observations", "next_observations"):
            if not isinstance(state[group], dict) or set(state[group]) != set(self.obs_shapes):
                keys = sorted(map(str, state[group])) if isinstance(state[group], dict) else state[group]
                raise ValueError(f"saved {group} have keys {str(keys)[:80]}; expected {sorted(self.obs_shapes)}")
            for k, target in getattr(self, group).items():
                _check_entry(f"{group}[{k!r}]", state[group][k], (n, *target.shape[1:]), target.dtype)
        for name in ("actions", "rewards", "dones"):
            _check_entry(name, state[name], (n, *getattr(self, name).shape[1:]), getattr(self, name).dtype)
            names.append(name)
        self._check_values(state, n, names)
        for group in ("observations", "next_observations"):
            for k, sub in self.observation_space.spaces.items():
                _check_values(f"{group}[{k!r}]", state[group][k])
                if isinstance(sub, spaces.Discrete):
                    _check_range(f"{group}[{k!r}]", state[group][k], int(sub.start), int(sub.start + sub.n))
        return n

    def load_state_dict(self, state: dict) -> None:
        """Restore from `state_dict()`; the buffer must have the same size, n_envs and spaces.

        Everything is checked first (`check_state`): a refused state leaves the buffer as it was."""
        n = self.check_state(state)
        self._assign(state, n)

    def _assign(self, state: dict, n: int) -> None:
        for group in ("observations", "next_observations"):
            for k, target in getattr(self, group).items():
                target[:n] = state[group][k]
        for name in ("actions", "rewards", "dones"):
            getattr(self, name)[:n] = state[name]
        self.pos, self.full = int(state["pos"]), bool(state["full"])
