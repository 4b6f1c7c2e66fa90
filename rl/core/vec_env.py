"""Vectorised environments through `gymnasium.vector`: the agents' internal form (Gymnasium semantics).

`make_vec_env` here returns a Gymnasium `VectorEnv`; SB3's `make_vec_env` (an SB3 VecEnv, exported as
`rl.make_vec_env` and `rl.common.env_util.make_vec_env`) is `rl.core.sb3_vec_env.env_util`.

Every vector env made here uses `AutoresetMode.SAME_STEP`: when sub-env i finishes, `step` returns
the reset observation for it, the last observation of the finished episode is in
`infos["final_obs"][i]` (mask `infos["_final_obs"]`), and the episode statistics from the
vector-level `gymnasium.wrappers.vector.RecordEpisodeStatistics` are in `infos["episode"]["r"|"l"]`
(mask `infos["_episode"]`) in that same step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv, VectorEnv
from gymnasium.wrappers.vector import RecordEpisodeStatistics

from .preprocessing import needs_transpose
from .vec_transpose import VecTransposeImage, is_wrapped_with_transpose

__all__ = ["make_vec_env", "wrap_env", "is_vector_env", "env_id_of", "SeedOnFirstReset",
           "VecTransposeImage"]


class SeedOnFirstReset(gym.Wrapper):
    """Uses `seed` for the first `reset()` that is called without one; seeds the action space too."""

    def __init__(self, env: gym.Env, seed: int | None):
        super().__init__(env)
        self._pending_seed = seed
        if seed is not None:
            self.action_space.seed(seed)
            self.observation_space.seed(seed)

    def reset(self, *, seed=None, options=None):
        if seed is None and self._pending_seed is not None:
            seed = self._pending_seed
        self._pending_seed = None
        return self.env.reset(seed=seed, options=options)


def register_project_envs(env_id: str) -> None:
    """Import our `envs` package (which registers the corenn/... ids and rl-zoo3's ...NoVel ids) when an id needs it."""
    if (env_id.startswith("corenn/") or "NoVel-v" in env_id) and env_id not in gym.registry:
        import envs  # noqa: F401


def _make_thunk(env_id, rank: int, seed, env_kwargs: dict, wrapper_class, wrapper_kwargs: dict):
    def thunk() -> gym.Env:
        if isinstance(env_id, str):
            register_project_envs(env_id)
            env = gym.make(env_id, **env_kwargs)
        else:
            env = env_id(**env_kwargs)
        if wrapper_class is not None:
            env = wrapper_class(env, **wrapper_kwargs)
        return SeedOnFirstReset(env, None if seed is None else int(seed) + rank)
    return thunk


def make_vec_env(
    env_id: str | Callable[..., gym.Env],
    n_envs: int = 1,
    seed: int | None = None,
    vec_env_cls: str | type = "sync",
    env_kwargs: dict | None = None,
    wrapper_class: Callable[..., gym.Env] | None = None,
    wrapper_kwargs: dict | None = None,
    vec_env_kwargs: dict | None = None,
) -> VectorEnv:
    """Make `n_envs` copies of `env_id` (an id or a callable returning an Env) as one vector env.

    `seed` seeds sub-env i with `seed + i` on its first reset (and its action space), as SB3 does.
    `vec_env_cls` is "sync" (default), "async", or a gymnasium vector env class.
    """
    if not isinstance(n_envs, (int, np.integer)) or n_envs < 1:
        raise ValueError(f"n_envs must be a positive int, got {n_envs!r}")
    if not (isinstance(env_id, str) or callable(env_id)):
        raise TypeError(f"env_id must be an environment id (str) or a callable returning an Env, got {env_id!r}")
    fns = [_make_thunk(env_id, i, seed, env_kwargs or {}, wrapper_class, wrapper_kwargs or {}) for i in range(n_envs)]
    kwargs = dict(autoreset_mode=AutoresetMode.SAME_STEP)
    kwargs.update(vec_env_kwargs or {})
    if isinstance(vec_env_cls, str):
        classes = {"sync": SyncVectorEnv, "async": AsyncVectorEnv, "subproc": AsyncVectorEnv, "dummy": SyncVectorEnv}
        if vec_env_cls not in classes:
            raise ValueError(f"vec_env_cls must be 'sync' or 'async', got {vec_env_cls!r}")
        vec_env_cls = classes[vec_env_cls]
    return RecordEpisodeStatistics(vec_env_cls(fns, **kwargs))


def is_vector_env(env: Any) -> bool:
    return isinstance(env, VectorEnv)


def _has_episode_stats(env: VectorEnv) -> bool:
    from .sb3_vec_env.adapters import VecEnvAsGymVector  # it reports infos["episode"] itself

    while True:
        if isinstance(env, (RecordEpisodeStatistics, VecEnvAsGymVector)):
            return True
        if not hasattr(env, "env") or env is env.unwrapped:
            return False
        env = env.env


def wrap_env(env: Any, n_envs: int = 1, seed: int | None = None) -> VectorEnv:
    """Turn an env id, a `gymnasium.Env`, a Gymnasium vector env (any autoreset mode) or an SB3-style VecEnv
    into a SAME_STEP Gymnasium vector env (the form the training loops step).

    A single Env instance is wrapped into a 1-env SyncVectorEnv (n_envs must then be 1). Channel-last
    image observations (H, W, C) are transposed to (C, H, W) by `VecTransposeImage`, as SB3's agents do.
    """
    return _transpose_images(_as_vector_env(env, n_envs, seed))


def _transpose_images(env: VectorEnv) -> VectorEnv:
    if needs_transpose(env.single_observation_space) and not is_wrapped_with_transpose(env):
        return VecTransposeImage(env)
    return env


def _as_vector_env(env: Any, n_envs: int, seed: int | None) -> VectorEnv:
    from .sb3_vec_env.adapters import GymVectorVecEnv, VecEnvAsGymVector, autoreset_mode
    from .sb3_vec_env.base import is_sb3_vec_env

    if isinstance(env, str):
        return make_vec_env(env, n_envs=n_envs, seed=seed)
    if is_sb3_vec_env(env):  # SB3 VecEnv: stepped through a SAME_STEP adapter (statistics of VecNormalize update)
        if isinstance(env, GymVectorVecEnv):  # model.get_env() of another agent: use its Gymnasium env
            return _as_vector_env(env.gym_env, n_envs, seed)
        return VecEnvAsGymVector(env)
    if isinstance(env, VectorEnv):
        if autoreset_mode(env) != AutoresetMode.SAME_STEP:  # NEXT_STEP / DISABLED: reset in the same step
            return VecEnvAsGymVector(GymVectorVecEnv(env))
        return env if _has_episode_stats(env) else RecordEpisodeStatistics(env)
    if isinstance(env, gym.Env):
        if n_envs != 1:
            raise ValueError("a single gymnasium.Env instance can only be used with n_envs=1; pass an env id instead")
        wrapped = SeedOnFirstReset(env, seed)
        return RecordEpisodeStatistics(SyncVectorEnv([lambda: wrapped], autoreset_mode=AutoresetMode.SAME_STEP))
    raise TypeError(
        f"env must be an environment id (str), a gymnasium.Env, a gymnasium vector env or an SB3-style VecEnv "
        f"(DummyVecEnv, SubprocVecEnv, VecNormalize, ...), got {type(env).__name__}"
    )


def env_id_of(env: Any) -> str | None:
    """Best-effort registered id of an env / vector env (None if not made by gym.make)."""
    if isinstance(env, str):
        return env
    spec = getattr(env, "spec", None)
    if spec is not None and getattr(spec, "id", None):
        return spec.id
    envs = getattr(getattr(env, "unwrapped", env), "envs", None)
    if envs:
        sub = envs[0]
        spec = getattr(sub, "spec", None)
        if spec is None:
            spec = getattr(getattr(sub, "unwrapped", None), "spec", None)
        return getattr(spec, "id", None)
    try:
        spec = env.unwrapped.get_attr("spec")[0]
        return getattr(spec, "id", None)
    except Exception:  # async envs may not expose specs
        return None

