"""Ring-buffer replay memory for off-policy algorithms (DQN, DDPG, TD3, SAC).

Storage is preallocated: observations (size, n_envs, *obs_shape), actions (size, n_envs, action_dim),
rewards and dones (size, n_envs), float32 by default; image observations (uint8 Box, see
`rl.core.preprocessing.is_image_space`) are stored as uint8 whatever `dtype` says, and preprocessed per
sampled batch. `buffer_size` counts transitions over all sub-envs, so each sub-env gets
buffer_size // n_envs slots (as in Stable-Baselines3).

Stored `dones` are terminations only: a transition cut by a time limit keeps done = 0 so that
targets bootstrap through it. Callers pass done = terminated | truncated plus the truncation flags
(`truncated=` or SB3's infos["TimeLimit.truncated"]); with Gymnasium's vector envs remember that
`next_obs` of a finished sub-env must be infos["final_obs"], not the reset observation.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from gymnasium import spaces

from .preprocessing import is_image_space

__all__ = ["ReplayBuffer", "ReplayBufferSamples", "register_replay_buffer_class", "resolve_replay_buffer_class",
           "obs_storage_dtype"]

_REPLAY_BUFFER_CLASSES: dict[str, type] = {}


def register_replay_buffer_class(cls: type) -> type:
    """Make `cls` resolvable by its name (a class decorator; ReplayBuffer, DictReplayBuffer and
    HerReplayBuffer register themselves)."""
    _REPLAY_BUFFER_CLASSES[cls.__name__] = cls
    return cls


def resolve_replay_buffer_class(value) -> type | None:
    """`replay_buffer_class` as given to an algorithm or read from YAML / a checkpoint -> a class or None.

    None stays None (the algorithm picks ReplayBuffer, or DictReplayBuffer for Dict observations);
    a class is returned as it is; a string must name a registered class: "ReplayBuffer",
    "DictReplayBuffer" or "HerReplayBuffer" (a module prefix such as "stable_baselines3.HerReplayBuffer"
    is ignored). Anything else raises ValueError.
    """
    if value is None or isinstance(value, type):
        return value
    if not isinstance(value, str):
        raise ValueError(f"replay_buffer_class must be None, a class or a name, got {value!r}")
    cls = _REPLAY_BUFFER_CLASSES.get(value.strip().split(".")[-1])
    if cls is None:
        raise ValueError(f"unknown replay_buffer_class {value!r}; use one of {sorted(_REPLAY_BUFFER_CLASSES)}")
    return cls


class ReplayBufferSamples(NamedTuple):
    """A batch: observations/next_observations (B, *obs_shape), actions (B, action_dim), dones/rewards (B, 1)."""

    observations: np.ndarray
    actions: np.ndarray
    next_observations: np.ndarray
    dones: np.ndarray
    rewards: np.ndarray


def _obs_shape(space: spaces.Space) -> tuple:
    if isinstance(space, spaces.Box):
        return tuple(space.shape)
    if isinstance(space, spaces.Discrete):
        return (1,)
    if isinstance(space, spaces.MultiDiscrete):
        return (len(space.nvec),)
    if isinstance(space, spaces.MultiBinary):
        return tuple(np.atleast_1d(space.shape))
    if isinstance(space, spaces.Dict):
        raise TypeError("ReplayBuffer stores flat observations; Dict observation spaces need a "
                        "dict-aware buffer such as HerReplayBuffer")
    raise TypeError(f"ReplayBuffer does not support observation space {space}")


def obs_storage_dtype(space: spaces.Space, dtype) -> np.dtype:
    """The dtype observations of `space` are stored in: the image's own (uint8) for image spaces, else `dtype`."""
    return np.dtype(space.dtype) if is_image_space(space) else np.dtype(dtype)


def _action_dim(space: spaces.Space) -> int:
    if isinstance(space, spaces.Box):
        return int(np.prod(space.shape))
    if isinstance(space, spaces.Discrete):
        return 1
    if isinstance(space, spaces.MultiDiscrete):
        return len(space.nvec)
    if isinstance(space, spaces.MultiBinary):
        return int(np.prod(space.shape))
    raise TypeError(f"ReplayBuffer does not support action space {space}")


def _truncation_flags(infos, truncated, n_envs: int) -> np.ndarray:
    """Truncation mask (n_envs,) from `truncated=` or infos (a list of dicts or a dict of arrays)."""
    if truncated is not None:
        return np.asarray(truncated, dtype=bool).reshape(n_envs)
    if isinstance(infos, dict):
        flags = infos.get("TimeLimit.truncated")
        if flags is None:
            return np.zeros(n_envs, dtype=bool)
        flags = np.asarray(flags, dtype=bool).reshape(n_envs)
        mask = infos.get("_TimeLimit.truncated")
        return flags if mask is None else flags & np.asarray(mask, dtype=bool).reshape(n_envs)
    if infos:
        return np.array([bool(info.get("TimeLimit.truncated", False)) for info in infos])
    return np.zeros(n_envs, dtype=bool)


@register_replay_buffer_class
class ReplayBuffer:
    """FIFO replay memory with vectorised uniform sampling.

    optimize_memory_usage=True stores each next observation only once, in the slot after the
    current one (SB3 semantics). As in SB3, the next observation of an episode's last transition is
    then replaced by the following reset observation: harmless after a termination (no bootstrap),
    slightly wrong after a truncation.
    """

    def __init__(self, buffer_size: int, observation_space: spaces.Space, action_space: spaces.Space,
                 n_envs: int = 1, optimize_memory_usage: bool = False, dtype=np.float32, seed=None):
        if int(buffer_size) <= 0 or int(n_envs) <= 0:
            raise ValueError(f"buffer_size and n_envs must be positive, got {buffer_size}, {n_envs}")
        self.observation_space = observation_space
        self.action_space = action_space
        self.n_envs = int(n_envs)
        self.buffer_size = max(int(buffer_size) // self.n_envs, 1)
        if optimize_memory_usage and self.buffer_size < 2:
            raise ValueError("optimize_memory_usage needs at least 2 slots per env")
        self.optimize_memory_usage = bool(optimize_memory_usage)
        self.obs_shape = _obs_shape(observation_space)
        self.action_dim = _action_dim(action_space)
        self.dtype = np.dtype(dtype)
        self.obs_dtype = obs_storage_dtype(observation_space, self.dtype)
        self.rng = np.random.default_rng(seed)
        size, n = self.buffer_size, self.n_envs
        self.observations = np.zeros((size, n, *self.obs_shape), dtype=self.obs_dtype)
        self.next_observations = (None if self.optimize_memory_usage
                                  else np.zeros((size, n, *self.obs_shape), dtype=self.obs_dtype))
        self.actions = np.zeros((size, n, self.action_dim), dtype=np.float32)
        self.rewards = np.zeros((size, n), dtype=np.float32)
        self.dones = np.zeros((size, n), dtype=np.float32)
        self.pos = 0
        self.full = False

    def size(self) -> int:
        """Number of filled slots per sub-env."""
        return self.buffer_size if self.full else self.pos

    def __len__(self) -> int:
        return self.size() * self.n_envs

    def reset(self) -> None:
        self.pos, self.full = 0, False

    def _check(self, name: str, value, shape: tuple) -> np.ndarray:
        arr = np.asarray(value)
        if arr.size != int(np.prod(shape)):
            raise ValueError(f"{name} has shape {arr.shape}; expected {shape} "
                             f"(leading dimension n_envs={self.n_envs})")
        arr = arr.reshape(shape)
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or inf; check the environment or the normaliser")
        return arr

    def add(self, obs, next_obs, action, reward, done, infos=None, truncated=None) -> None:
        """Store one vector-env step: arrays with leading dim n_envs; done = terminated | truncated."""
        n, pos = self.n_envs, self.pos
        obs_shape = (n, *self.obs_shape)
        obs = self._check("obs", obs, obs_shape)
        next_obs = self._check("next_obs", next_obs, obs_shape)
        self.observations[pos] = obs
        if self.optimize_memory_usage:
            self.observations[(pos + 1) % self.buffer_size] = next_obs
        else:
            self.next_observations[pos] = next_obs
        self.actions[pos] = self._check("action", action, (n, self.action_dim))
        self.rewards[pos] = self._check("reward", reward, (n,))
        done = self._check("done", done, (n,)).astype(bool)
        self.dones[pos] = done & ~_truncation_flags(infos, truncated, n)
        self.pos += 1
        if self.pos == self.buffer_size:
            self.full, self.pos = True, 0

    def _sample_indices(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        if self.size() == 0:
            raise ValueError("cannot sample from an empty ReplayBuffer")
        if not self.optimize_memory_usage:
            return rng.integers(0, self.size(), size=batch_size)
        if self.full:
            # Slot `pos` is invalid: its observation was overwritten by the newest next_obs.
            return (rng.integers(1, self.buffer_size, size=batch_size) + self.pos) % self.buffer_size
        return rng.integers(0, self.pos, size=batch_size)

    def sample(self, batch_size: int, rng: np.random.Generator | None = None) -> ReplayBufferSamples:
        """Uniform batch over all stored transitions of all sub-envs (with replacement)."""
        rng = self.rng if rng is None else rng
        idx = self._sample_indices(int(batch_size), rng)
        env_idx = rng.integers(0, self.n_envs, size=len(idx))
        if self.optimize_memory_usage:
            next_obs = self.observations[(idx + 1) % self.buffer_size, env_idx]
        else:
            next_obs = self.next_observations[idx, env_idx]
        return ReplayBufferSamples(
            observations=self.observations[idx, env_idx],
            actions=self.actions[idx, env_idx],
            next_observations=next_obs,
            dones=self.dones[idx, env_idx][:, None],
            rewards=self.rewards[idx, env_idx][:, None],
        )

    def state_dict(self) -> dict:
        """Arrays to save with the agent (only the filled part; no pickling needed)."""
        n = self.size()
        state = {
            "observations": self.observations[:n].copy(),
            "actions": self.actions[:n].copy(),
            "rewards": self.rewards[:n].copy(),
            "dones": self.dones[:n].copy(),
            "pos": np.array(self.pos, dtype=np.int64),
            "full": np.array(self.full),
            "buffer_size": np.array(self.buffer_size, dtype=np.int64),
            "n_envs": np.array(self.n_envs, dtype=np.int64),
        }
        if not self.optimize_memory_usage:
            state["next_observations"] = self.next_observations[:n].copy()
        return state

    def check_state(self, state: dict) -> int:
        """Check a `state_dict()` against this buffer without changing it -> number of saved rows.

        Works on arrays and on corenn ArraySpecs (the declared dtype and shape, before a file's data is
        read); with arrays it also checks the values (sizes, position, finite numbers, Discrete ranges).
        Raises ValueError naming the entry.
        """
        if not isinstance(state, dict):
            raise ValueError(f"a replay buffer state must be a dict, got {type(state).__name__}")
        if ("next_observations" in state) == self.optimize_memory_usage:
            raise ValueError("saved replay buffer and this one disagree on optimize_memory_usage")
        names = ["observations", "actions", "rewards", "dones"]
        names += [] if self.optimize_memory_usage else ["next_observations"]
        _check_keys(state, set(names) | set(_SCALARS))
        n = _rows(state["observations"], "observations", self.buffer_size)
        for name in names:
            target = getattr(self, name)
            _check_entry(name, state[name], (n, *target.shape[1:]), target.dtype)
        self._check_values(state, n, names)
        return n

    def _check_values(self, state: dict, n: int, names: list) -> None:
        """Scalars and, for real arrays, the values (called by check_state)."""
        scalars = {k: _scalar(k, state[k], kinds) for k, kinds in _SCALARS.items()}
        if scalars["buffer_size"] is None:  # declared shapes only: values are checked once read
            return
        size, n_envs = scalars["buffer_size"], scalars["n_envs"]
        if (size, n_envs) != (self.buffer_size, self.n_envs):
            raise ValueError(f"saved replay buffer has {size} slots x {n_envs} envs; this one has "
                             f"{self.buffer_size} x {self.n_envs}")
        pos, full = scalars["pos"], bool(scalars["full"])
        if not 0 <= pos < self.buffer_size or n != (self.buffer_size if full else pos):
            raise ValueError(f"saved replay buffer position {pos} (full={full}) does not fit its {n} rows")
        for name in names:
            _check_values(name, state[name])
        if isinstance(self.action_space, spaces.Discrete):
            _check_range("actions", state["actions"], 0, int(self.action_space.n))
        if isinstance(self.observation_space, spaces.Discrete):
            low = int(self.observation_space.start)
            for name in ("observations", "next_observations"):
                if name in state:
                    _check_range(name, state[name], low, low + int(self.observation_space.n))

    def load_state_dict(self, state: dict) -> None:
        """Restore from `state_dict()`; the buffer must have the same size, n_envs and spaces.

        Everything is checked first (`check_state`): a refused state leaves the buffer as it was."""
        n = self.check_state(state)
        names = ["observations", "actions", "rewards", "dones"]
        names += [] if self.optimize_memory_usage else ["next_observations"]
        for name in names:
            getattr(self, name)[:n] = state[name]
        self.pos, self.full = int(state["pos"]), bool(state["full"])


# ----------------------------------------------------------------------------- state checks
_SCALARS = {"pos": "iu", "full": "b", "buffer_size": "iu", "n_envs": "iu"}


def _check_keys(state: dict, expected: set) -> None:
    missing, unexpected = sorted(expected - set(state)), sorted(map(str, set(state) - expected))
    if missing or unexpected:
        raise ValueError(f"saved replay buffer does not fit: missing {missing}, unexpected {unexpected}")


def _rows(value, name: str, limit: int) -> int:
    """Rows of a saved per-slot array: at most `limit`, the slots of the buffer loading it."""
    if not hasattr(value, "shape") or len(value.shape) < 1:
        raise ValueError(f"saved {name} must be an array with a leading row axis, got {type(value).__name__}")
    if value.shape[0] > limit:
        raise ValueError(f"saved replay buffer holds {value.shape[0]} slots; this one has {limit}")
    return int(value.shape[0])


def _check_entry(name: str, value, shape: tuple, dtype) -> None:
    """`value` (ndarray or ArraySpec) must have exactly `shape` and `dtype`."""
    ok = hasattr(value, "shape") and hasattr(value, "dtype")
    if not ok or tuple(value.shape) != tuple(shape) or np.dtype(value.dtype) != np.dtype(dtype):
        got = f"{np.dtype(value.dtype)} {tuple(value.shape)}" if ok else type(value).__name__
        raise ValueError(f"saved {name} is {got}; expected {np.dtype(dtype)} {tuple(shape)}")


def _scalar(name: str, value, kinds: str):
    """A 0-d entry's Python value (None for an ArraySpec, whose value is not read yet)."""
    if not hasattr(value, "shape") or tuple(value.shape) != () or np.dtype(value.dtype).kind not in kinds:
        raise ValueError(f"saved {name} must be a scalar of kind {kinds!r}")
    return np.asarray(value).item() if isinstance(value, (np.ndarray, np.generic)) else None


def _check_values(name: str, value) -> None:
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" and not np.isfinite(value).all():
        raise ValueError(f"saved {name} holds NaN or inf")


def _check_range(name: str, value, low: int, high: int) -> None:
    """Stored Discrete values (as floats) must be whole numbers in [low, high)."""
    if isinstance(value, np.ndarray) and value.size and not (
            (value >= low).all() and (value < high).all() and (value == np.floor(value)).all()):
        raise ValueError(f"saved {name} holds values outside the Discrete range [{low}, {high})")
