"""make_vec_env with SB3's behaviour: an SB3 VecEnv (DummyVecEnv by default) of Monitor-wrapped envs.

This is `rl.make_vec_env` and `rl.common.env_util.make_vec_env`. The agents' internal helper
`rl.core.vec_env.make_vec_env` builds a Gymnasium `VectorEnv` instead (SAME_STEP autoreset); the
algorithms accept both.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from ..monitor import Monitor
from ..vec_env import register_project_envs
from .dummy import DummyVecEnv, is_wrapped, unwrap_wrapper

__all__ = ["make_vec_env", "make_atari_env", "is_wrapped", "unwrap_wrapper"]


def _make_env(env_id, rank: int, seed, env_kwargs: dict, monitor_dir, monitor_kwargs: dict, wrapper_class,
              wrapper_kwargs: dict) -> Callable[[], gym.Env]:
    def _init() -> gym.Env:
        if isinstance(env_id, str):
            register_project_envs(env_id)
            try:  # SB3 asks for rgb_array frames so that VecEnv.render() and VecVideoRecorder work
                env = gym.make(env_id, **{"render_mode": "rgb_array", **env_kwargs})
            except (TypeError, ValueError):  # an env without rgb_array rendering (a real error raises again)
                env = gym.make(env_id, **env_kwargs)
        else:
            env = env_id(**env_kwargs)
        if seed is not None:
            env.action_space.seed(int(seed) + rank)
        monitor_path = os.path.join(monitor_dir, str(rank)) if monitor_dir is not None else None
        if monitor_path is not None:
            os.makedirs(monitor_dir, exist_ok=True)
        env = Monitor(env, filename=monitor_path, **monitor_kwargs)
        if wrapper_class is not None:
            env = wrapper_class(env, **wrapper_kwargs)
        return env
    return _init


def make_vec_env(env_id: str | Callable[..., gym.Env], n_envs: int = 1, seed: int | None = None,
                 start_index: int = 0, monitor_dir: str | None = None,
                 wrapper_class: Callable[..., gym.Env] | None = None, env_kwargs: dict[str, Any] | None = None,
                 vec_env_cls: type | None = None, vec_env_kwargs: dict[str, Any] | None = None,
                 monitor_kwargs: dict[str, Any] | None = None, wrapper_kwargs: dict[str, Any] | None = None):
    """`n_envs` copies of `env_id` (an id or a callable returning an Env), each wrapped in Monitor (monitor CSV
    `<monitor_dir>/<rank>.monitor.csv` when monitor_dir is set) then `wrapper_class`, in `vec_env_cls`
    (DummyVecEnv by default, or SubprocVecEnv). Sub-env i is seeded with seed + i at the first reset."""
    if not isinstance(n_envs, (int, np.integer)) or n_envs < 1:
        raise ValueError(f"n_envs must be a positive int, got {n_envs!r}")
    if not (isinstance(env_id, str) or callable(env_id)):
        raise TypeError(f"env_id must be an environment id (str) or a callable returning an Env, got {env_id!r}")
    vec_env_cls = DummyVecEnv if vec_env_cls is None else vec_env_cls
    if isinstance(vec_env_cls, str):
        raise TypeError("vec_env_cls is a class here (DummyVecEnv or SubprocVecEnv), as in SB3; the 'sync' / "
                        "'async' names belong to rl.core.vec_env.make_vec_env (Gymnasium vector envs)")
    fns = [_make_env(env_id, i + int(start_index), seed, dict(env_kwargs or {}), monitor_dir,
                     dict(monitor_kwargs or {}), wrapper_class, dict(wrapper_kwargs or {})) for i in range(int(n_envs))]
    vec_env = vec_env_cls(fns, **(vec_env_kwargs or {}))
    vec_env.seed(seed)
    return vec_env


def make_atari_env(*args, **kwargs):
    """Not provided: Atari needs ale-py and SB3's Atari wrappers, which rl does not ship."""
    raise NotImplementedError("make_atari_env is not provided by rl (no ale-py / Atari wrappers); build the env "
                              "with make_vec_env(env_id, wrapper_class=your_atari_wrapper) instead")
