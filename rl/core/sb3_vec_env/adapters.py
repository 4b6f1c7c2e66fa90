"""Adapters between SB3's VecEnv API and Gymnasium's `VectorEnv`.

- `GymVectorVecEnv`: a Gymnasium VectorEnv in any autoreset mode (SAME_STEP, NEXT_STEP, DISABLED) seen
  as an SB3 VecEnv: finished sub-envs are reset in the same step (NEXT_STEP and DISABLED through
  `reset(options={"reset_mask": ...})`), their last observation in infos[i]["terminal_observation"].
  `model.get_env()` returns one around the agent's internal env.
- `VecEnvAsGymVector`: an SB3 VecEnv seen as a SAME_STEP Gymnasium VectorEnv (infos["final_obs"],
  infos["final_info"], infos["episode"] with its mask), which is what the training loops step.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from .base import VecEnv, tile_images, unwrap_vec_normalize

__all__ = ["GymVectorVecEnv", "VecEnvAsGymVector", "split_infos", "autoreset_mode", "sb3_view"]

_SPECIAL = ("final_obs", "final_info")
_SB3_KEYS = ("terminal_observation", "TimeLimit.truncated", "episode")


def autoreset_mode(env: VectorEnv):
    """The AutoresetMode of a Gymnasium vector env (NEXT_STEP when it does not say, Gymnasium's default)."""
    mode = env.metadata.get("autoreset_mode") or getattr(env, "autoreset_mode", None)
    if isinstance(mode, str):
        mode = {"next-step": AutoresetMode.NEXT_STEP, "nextstep": AutoresetMode.NEXT_STEP,
                "same-step": AutoresetMode.SAME_STEP, "samestep": AutoresetMode.SAME_STEP,
                "disabled": AutoresetMode.DISABLED}.get(mode.lower().replace("_", "-"), mode)
    return mode if mode is not None else AutoresetMode.NEXT_STEP


def split_infos(infos: dict, n_envs: int, skip: tuple = ()) -> list[dict]:
    """A Gymnasium vector info dict (values batched, masks under "_key") -> one dict per sub-env."""
    out: list[dict] = [{} for _ in range(n_envs)]
    for key, value in infos.items():
        if (isinstance(key, str) and key.startswith("_")) or key in skip:
            continue
        mask = infos.get(f"_{key}")
        mask = np.ones(n_envs, bool) if mask is None else np.asarray(mask, bool)
        per_env = split_infos(value, n_envs) if isinstance(value, dict) else None
        for i in np.flatnonzero(mask):
            out[i][key] = per_env[i] if per_env is not None else _item(value[i])
    return out


def _item(value):
    return value.item() if isinstance(value, np.generic) else value


class GymVectorVecEnv(VecEnv):
    """SB3 VecEnv view of a Gymnasium VectorEnv (`gym_env`), whatever its autoreset mode."""

    def __init__(self, gym_env: VectorEnv):
        if not isinstance(gym_env, VectorEnv):
            raise TypeError(f"GymVectorVecEnv wraps a gymnasium VectorEnv, got {type(gym_env).__name__}")
        self.gym_env = gym_env
        self.mode = autoreset_mode(gym_env)
        super().__init__(gym_env.num_envs, gym_env.single_observation_space, gym_env.single_action_space)
        self.render_mode = getattr(gym_env, "render_mode", None)
        self.actions = None

    def reset(self):
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        options = dict(self._options[0]) if self._options[0] else None
        obs, infos = self.gym_env.reset(seed=seeds, options=options)
        self.reset_infos = split_infos(infos, self.num_envs)
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions) -> None:
        self.actions = np.asarray(actions) if not isinstance(actions, (dict, tuple)) else actions

    def step_wait(self):
        obs, rewards, terminated, truncated, infos = self.gym_env.step(self.actions)
        self.actions = None
        terminated, truncated = np.asarray(terminated, bool), np.asarray(truncated, bool)
        dones = terminated | truncated
        out = split_infos(infos, self.num_envs, skip=_SPECIAL)
        episodes = [o.get("episode") for o in out]  # top level of the step infos (RecordEpisodeStatistics)
        if self.mode == AutoresetMode.SAME_STEP:
            finals = split_infos(infos.get("final_info", {}), self.num_envs)
            for i in np.flatnonzero(dones):
                self.reset_infos[i] = {k: v for k, v in out[i].items() if k != "episode"}
                out[i] = finals[i]
                out[i]["terminal_observation"] = infos["final_obs"][i]
        elif dones.any():
            for i in np.flatnonzero(dones):
                out[i]["terminal_observation"] = _index(obs, i)
            obs, reset_infos = self.gym_env.reset(options={"reset_mask": dones.copy()})
            for i, info in enumerate(split_infos(reset_infos, self.num_envs)):
                if dones[i]:
                    self.reset_infos[i] = info
        for i in range(self.num_envs):
            out[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            episode = episodes[i]
            if isinstance(episode, dict) and dones[i]:
                out[i]["episode"] = {k: _item(v) for k, v in episode.items()}
            elif not dones[i]:
                out[i].pop("episode", None)
        return obs, np.asarray(rewards, np.float32), dones, out

    def close(self) -> None:
        self.gym_env.close()

    def _base(self):
        return self.gym_env.unwrapped

    def get_images(self):
        envs = getattr(self._base(), "envs", None)
        if envs is None:
            try:
                return list(self._base().call("render"))
            except AttributeError:
                return [None] * self.num_envs
        return [env.render() for env in envs]

    def get_attr(self, attr_name: str, indices=None) -> list:
        base = self._base()
        if not hasattr(base, "get_attr"):
            raise AttributeError(f"{type(base).__name__} does not expose its sub-envs' attributes")
        values = base.get_attr(attr_name)
        return [values[i] for i in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value, indices=None) -> None:
        base = self._base()
        indices = list(self._get_indices(indices))
        envs = getattr(base, "envs", None)
        if envs is not None:
            for i in indices:
                envs[i].set_wrapper_attr(attr_name, value)
            return
        current = base.get_attr(attr_name)
        base.set_attr(attr_name, [value if i in indices else current[i] for i in range(self.num_envs)])

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list:
        base = self._base()
        envs = getattr(base, "envs", None)
        if envs is not None:
            return [envs[i].get_wrapper_attr(method_name)(*method_args, **method_kwargs)
                    for i in self._get_indices(indices)]
        results = base.call(method_name, *method_args, **method_kwargs)
        return [results[i] for i in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        from .dummy import is_wrapped
        envs = getattr(self._base(), "envs", None)
        if envs is None:
            return [False for _ in self._get_indices(indices)]
        return [is_wrapped(envs[i], wrapper_class) for i in self._get_indices(indices)]


def _index(obs, i: int):
    if isinstance(obs, dict):
        return {k: _index(v, i) for k, v in obs.items()}
    if isinstance(obs, tuple):
        return tuple(_index(v, i) for v in obs)
    return np.array(obs[i], copy=True)


class VecEnvAsGymVector(VectorEnv):
    """A SAME_STEP Gymnasium VectorEnv view of an SB3 VecEnv (`venv`), with vector episode statistics
    (infos["episode"]["r"|"l"|"t"], mask infos["_episode"]): taken from the sub-envs' Monitor infos when
    present, else counted here on the rewards before any VecNormalize."""

    def __init__(self, venv: VecEnv):
        if not isinstance(venv, VecEnv):
            raise TypeError(f"VecEnvAsGymVector wraps an SB3-style VecEnv, got {type(venv).__name__}")
        self.venv = venv
        self.num_envs = venv.num_envs
        self.single_observation_space = venv.observation_space
        self.single_action_space = venv.action_space
        self.observation_space = batch_space(venv.observation_space, self.num_envs)
        self.action_space = batch_space(venv.action_space, self.num_envs)
        self.metadata = {"autoreset_mode": AutoresetMode.SAME_STEP,
                         "render_modes": list(getattr(venv, "metadata", {}).get("render_modes", []) or [])}
        self.render_mode = getattr(venv, "render_mode", None)
        self.spec = None
        self._returns = np.zeros(self.num_envs)
        self._lengths = np.zeros(self.num_envs, np.int64)
        self._starts = np.full(self.num_envs, time.perf_counter())
        self._vec_normalize = unwrap_vec_normalize(venv)  # episode returns are counted before it

    @property
    def envs(self):
        """The sub-env objects when they live in this process (DummyVecEnv), else None."""
        base = self.venv.unwrapped
        if isinstance(base, GymVectorVecEnv):
            return getattr(base.gym_env.unwrapped, "envs", None)
        return getattr(base, "envs", None)

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            if isinstance(seed, (list, tuple)):
                self.venv.seed(int(seed[0]))
            else:
                self.venv.seed(int(seed))
        if options:
            self.venv.set_options(options)
        obs = self.venv.reset()
        self._returns[:] = 0.0
        self._lengths[:] = 0
        self._starts[:] = time.perf_counter()
        infos: dict = {}
        for i, info in enumerate(self.venv.reset_infos):
            infos = self._add_info(infos, info, i)
        return obs, infos

    def step(self, actions):
        obs, rewards, dones, step_infos = self.venv.step(actions)
        dones = np.asarray(dones, bool)
        rewards = np.asarray(rewards)
        norm = self._vec_normalize
        raw = norm.get_original_reward() if norm is not None and norm.old_reward is not None else rewards
        self._returns += raw
        self._lengths += 1
        truncated = np.zeros(self.num_envs, bool)
        infos: dict = {}
        for i, info in enumerate(step_infos):
            if dones[i]:
                truncated[i] = bool(info.get("TimeLimit.truncated", False))
            elif len(info) > 1 or (info and "TimeLimit.truncated" not in info):
                infos = self._add_info(infos, {k: v for k, v in info.items() if k not in _SB3_KEYS}, i)
        terminated = dones & ~truncated
        if not dones.any():
            return obs, rewards, terminated, truncated, infos
        finals: dict = {}
        final_obs = np.empty(self.num_envs, dtype=object)
        ep_r, ep_l, ep_t = np.zeros(self.num_envs), np.zeros(self.num_envs, np.int64), np.zeros(self.num_envs)
        now = time.perf_counter()
        for i in np.flatnonzero(dones):
            info = {k: v for k, v in step_infos[i].items() if k not in ("terminal_observation", "TimeLimit.truncated")}
            final_obs[i] = step_infos[i].get("terminal_observation")
            episode = info.pop("episode", None)
            finals = self._add_info(finals, info, i)
            infos = self._add_info(infos, dict(self.venv.reset_infos[i]) if self.venv.reset_infos else {}, i)
            if isinstance(episode, dict) and "r" in episode:
                ep_r[i], ep_l[i], ep_t[i] = episode["r"], episode["l"], episode.get("t", now - self._starts[i])
            else:
                ep_r[i], ep_l[i], ep_t[i] = self._returns[i], self._lengths[i], now - self._starts[i]
            self._returns[i], self._lengths[i], self._starts[i] = 0.0, 0, now
        infos["final_obs"], infos["_final_obs"] = final_obs, dones.copy()
        infos["final_info"], infos["_final_info"] = finals, dones.copy()
        infos["episode"] = {"r": ep_r, "l": ep_l, "t": ep_t}
        infos["_episode"] = dones.copy()
        return obs, rewards, terminated, truncated, infos

    def render(self):
        return self.venv.render()

    def close_extras(self, **kwargs) -> None:
        self.venv.close()

    def get_attr(self, name: str) -> tuple:
        return tuple(self.venv.get_attr(name))

    def set_attr(self, name: str, values) -> None:
        values = values if isinstance(values, (list, tuple)) else [values] * self.num_envs
        for i, value in enumerate(values):
            self.venv.set_attr(name, value, indices=[i])

    def call(self, name: str, *args, **kwargs) -> tuple:
        return tuple(self.venv.env_method(name, *args, **kwargs))

    def get_images(self) -> Any:
        images = self.venv.get_images()
        return None if any(im is None for im in images) else tile_images(images)



def sb3_view(env: VectorEnv) -> VecEnv:
    """The SB3 VecEnv behind a Gymnasium vector env built by `rl.core.vec_env.wrap_env` (the adapted VecEnv
    itself when there is one and no image transpose sits on top), else a `GymVectorVecEnv` view of it."""
    if isinstance(env, VecEnvAsGymVector):
        return env.venv
    return GymVectorVecEnv(env)
