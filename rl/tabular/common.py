"""Shared pieces of the tabular agents: env checks, observation checks, save/load of tables."""

from __future__ import annotations

import os

import gymnasium as gym
import numpy as np

FORMAT = "corenn-tabular"


def make_env(env) -> gym.Env:
    """An env id or a gymnasium.Env with Discrete observation and action spaces."""
    if isinstance(env, str):
        env = gym.make(env)
    if isinstance(env, gym.vector.VectorEnv):
        raise TypeError("tabular agents take a single gymnasium.Env or an env id, not a vector env")
    if not isinstance(env, gym.Env):
        raise TypeError(f"expected an env id or a gymnasium.Env, got {type(env).__name__}")
    for name in ("observation_space", "action_space"):
        space = getattr(env, name)
        if not isinstance(space, gym.spaces.Discrete):
            raise TypeError(f"tabular methods need a Discrete {name.replace('_', ' ')}, got {space}; "
                            "use a function-approximation algorithm (DQN, PPO, SAC) instead")
    return env


def env_id(env: gym.Env) -> str | None:
    spec = getattr(env, "spec", None)
    return getattr(spec, "id", None)


def check_obs(obs, n_states: int) -> np.ndarray:
    """Integer state index (scalar or batch) -> int64 array; clear error for anything else."""
    arr = np.asarray(obs)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"observation must be an integer state index in [0, {n_states}), got {obs!r}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_states):
        raise ValueError(f"observation {obs!r} is outside the state range [0, {n_states})")
    return arr.astype(np.int64)


def npz_path(path) -> str:
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


def save_tables(path, algo: str, tables: dict, metadata: dict) -> str:
    """One .npz via corenn.save: {format, algo, tables..., metadata (JSON-able)}; returns the path."""
    import corenn

    path = npz_path(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    corenn.save({"format": FORMAT, "algo": algo, "tables": tables, "metadata": metadata}, path)
    return path


def load_tables(path, algo: str) -> tuple[dict, dict]:
    """(tables, metadata) from `save_tables`, refusing another algorithm's file."""
    import corenn

    path = npz_path(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no saved agent at {path}")
    data = corenn.load(path)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a tabular agent file (format {FORMAT!r})")
    if data.get("algo") != algo:
        raise ValueError(f"{path} holds a {data.get('algo')} agent, not {algo}")
    return data["tables"], data["metadata"]
