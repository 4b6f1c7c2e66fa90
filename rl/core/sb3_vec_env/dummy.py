"""DummyVecEnv: SB3's sequential VecEnv, every sub-env stepped in this process one after the other."""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from .base import VecEnv

__all__ = ["DummyVecEnv", "obs_space_info", "stack_obs", "is_wrapped", "unwrap_wrapper"]


def obs_space_info(space: spaces.Space):
    """(keys, shapes, dtypes) of an observation space; a non-Dict space has the single key None."""
    if isinstance(space, spaces.Dict):
        subspaces = dict(space.spaces)
    elif isinstance(space, spaces.Tuple):
        subspaces = dict(enumerate(space.spaces))
    else:
        subspaces = {None: space}
    keys = list(subspaces)
    return keys, {k: subspaces[k].shape for k in keys}, {k: subspaces[k].dtype for k in keys}


def stack_obs(space: spaces.Space, observations: Sequence):
    """n sub-env observations -> a batch: an array, an OrderedDict of arrays (Dict) or a tuple (Tuple)."""
    if isinstance(space, spaces.Dict):
        return OrderedDict((k, np.stack([o[k] for o in observations])) for k in space.spaces)
    if isinstance(space, spaces.Tuple):
        return tuple(np.stack([o[i] for o in observations]) for i in range(len(space.spaces)))
    return np.stack(observations)


def unwrap_wrapper(env: gym.Env, wrapper_class: type) -> gym.Env | None:
    """The first gymnasium wrapper of class `wrapper_class` in `env`'s wrapper chain, or None."""
    while isinstance(env, gym.Wrapper):
        if isinstance(env, wrapper_class):
            return env
        env = env.env
    return None


def is_wrapped(env: gym.Env, wrapper_class: type) -> bool:
    """True when a gymnasium wrapper of class `wrapper_class` is in `env`'s wrapper chain."""
    return unwrap_wrapper(env, wrapper_class) is not None


class DummyVecEnv(VecEnv):
    """`env_fns`: callables each returning a new gymnasium.Env (one per sub-env, all distinct objects).

    step(): (obs (n, *shape), rewards float32 (n,), dones bool (n,), infos list); a finished sub-env is
    reset at once, with infos[i]["terminal_observation"] and infos[i]["TimeLimit.truncated"]."""

    def __init__(self, env_fns: list[Callable[[], gym.Env]]):
        if callable(env_fns) or not isinstance(env_fns, (list, tuple)) or not env_fns:
            raise TypeError("DummyVecEnv takes a non-empty list of callables that each return an env, e.g. "
                            "DummyVecEnv([lambda: gym.make('CartPole-v1')])")
        self.envs = [fn() for fn in env_fns]
        for env in self.envs:
            if not isinstance(env, gym.Env):
                raise TypeError(f"DummyVecEnv's env_fns must return gymnasium.Env instances, got {type(env).__name__}")
        if len({id(env.unwrapped) for env in self.envs}) != len(self.envs):
            raise ValueError("DummyVecEnv got the same env object several times: each function in env_fns must "
                             "return a new env (write [lambda: gym.make(id) for _ in range(n)], not [lambda: env] * n)")
        env = self.envs[0]
        super().__init__(len(self.envs), env.observation_space, env.action_space)
        self.actions = None
        self.metadata = dict(env.metadata)

    def reset(self):
        observations = []
        for i, env in enumerate(self.envs):
            kwargs = {"options": self._options[i]} if self._options[i] else {}
            obs, self.reset_infos[i] = env.reset(seed=self._seeds[i], **kwargs)
            observations.append(obs)
        self._reset_seeds()
        self._reset_options()
        return stack_obs(self.observation_space, observations)

    def step_async(self, actions) -> None:
        self.actions = actions

    def step_wait(self):
        if self.actions is None:
            raise RuntimeError("step_wait() was called without step_async(actions)")
        observations, infos = [], []
        rewards = np.zeros(self.num_envs, np.float32)
        dones = np.zeros(self.num_envs, bool)
        for i, env in enumerate(self.envs):
            obs, rewards[i], terminated, truncated, info = env.step(self.actions[i])
            info = dict(info)
            dones[i] = terminated or truncated
            info["TimeLimit.truncated"] = bool(truncated and not terminated)
            if dones[i]:
                info["terminal_observation"] = obs
                obs, self.reset_infos[i] = env.reset()
            observations.append(obs)
            infos.append(info)
        self.actions = None
        return stack_obs(self.observation_space, observations), rewards, dones, infos

    def close(self) -> None:
        for env in self.envs:
            env.close()

    def get_images(self):
        if self.render_mode != "rgb_array":
            warnings.warn(f"get_images() needs render_mode='rgb_array', the envs have {self.render_mode!r}",
                          stacklevel=2)
            return [None] * self.num_envs
        return [env.render() for env in self.envs]

    def render(self, mode: str | None = None):
        return super().render(mode=mode)

    def _targets(self, indices):
        return [self.envs[i] for i in self._get_indices(indices)]

    def get_attr(self, attr_name: str, indices=None) -> list:
        """The attribute of each selected sub-env (read through its gymnasium wrappers)."""
        return [_get_wrapper_attr(env, attr_name) for env in self._targets(indices)]

    def set_attr(self, attr_name: str, value, indices=None) -> None:
        for env in self._targets(indices):
            _set_wrapper_attr(env, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list:
        return [_get_wrapper_attr(env, method_name)(*method_args, **method_kwargs) for env in self._targets(indices)]

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [is_wrapped(env, wrapper_class) for env in self._targets(indices)]


def _get_wrapper_attr(env: gym.Env, name: str):
    """env.name looked up through gymnasium wrappers (gymnasium >= 1.0 no longer forwards attributes)."""
    if hasattr(env, "get_wrapper_attr"):
        return env.get_wrapper_attr(name)
    return getattr(env, name)  # pragma: no cover


def _set_wrapper_attr(env: gym.Env, name: str, value) -> None:
    if hasattr(env, "set_wrapper_attr"):
        env.set_wrapper_attr(name, value)
    else:  # pragma: no cover
        setattr(env.unwrapped, name, value)

