"""VecFrameStack: SB3's frame stacking, the last `n_stack` observations concatenated on the channel axis."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from ..preprocessing import is_image_space, is_image_space_channels_first
from .base import VecEnvWrapper

__all__ = ["VecFrameStack", "StackedObservations"]


class StackedObservations:
    """Rolling stack for one Box space: observations (n_envs, *shape) -> (n_envs, *stacked_shape).

    channels_order "last" stacks on the last axis, "first" on the first axis after the batch; None picks
    "first" for channel-first images and "last" otherwise."""

    def __init__(self, num_envs: int, n_stack: int, space: spaces.Box, channels_order: str | None = None):
        if not isinstance(space, spaces.Box):
            raise ValueError(f"VecFrameStack stacks Box observations, got {space}")
        if channels_order is None:
            first = is_image_space(space, check_channels=False) and is_image_space_channels_first(space)
            channels_order = "first" if first else "last"
        if channels_order not in ("first", "last"):
            raise ValueError(f"channels_order must be 'first', 'last' or None, got {channels_order!r}")
        self.n_stack, self.channels_order = int(n_stack), channels_order
        self.stack_dim = 1 if channels_order == "first" else -1
        axis = 0 if channels_order == "first" else -1
        self.shift = -space.shape[axis]
        low = np.concatenate([space.low] * self.n_stack, axis=axis)  # frame k's bounds at frame k's slot
        high = np.concatenate([space.high] * self.n_stack, axis=axis)
        self.stacked_observation_space = spaces.Box(low=low, high=high, dtype=space.dtype)
        self.stacked_obs = np.zeros((num_envs, *self.stacked_observation_space.shape), space.dtype)

    def reset(self, observation: np.ndarray) -> np.ndarray:
        self.stacked_obs[...] = 0
        self._put_last(observation)
        return self.stacked_obs.copy()

    def _put_last(self, observation) -> None:
        if self.channels_order == "first":
            self.stacked_obs[:, self.shift:, ...] = observation
        else:
            self.stacked_obs[..., self.shift:] = observation

    def update(self, observations: np.ndarray, dones: np.ndarray, infos: list[dict]):
        """Roll in the new observations; finished sub-envs get a stacked terminal_observation and a fresh stack."""
        for i in np.flatnonzero(dones):
            if "terminal_observation" in infos[i]:
                old = self.stacked_obs[i]
                terminal = infos[i]["terminal_observation"]
                if self.channels_order == "first":
                    new = np.concatenate([old[-self.shift:, ...], terminal], axis=0)
                else:
                    new = np.concatenate([old[..., -self.shift:], terminal], axis=-1)
                infos[i]["terminal_observation"] = new
            self.stacked_obs[i] = 0
        self.stacked_obs = np.roll(self.stacked_obs, shift=self.shift, axis=self.stack_dim)
        self._put_last(observations)
        return self.stacked_obs.copy(), infos


class VecFrameStack(VecEnvWrapper):
    """Stacks the last `n_stack` observations of a Box or Dict (every key) space; channels_order: None,
    "first", "last" (or a dict of them per key)."""

    def __init__(self, venv, n_stack: int, channels_order: str | dict | None = None):
        if int(n_stack) < 1:
            raise ValueError(f"n_stack must be >= 1, got {n_stack!r}")
        self.n_stack = int(n_stack)
        space = venv.observation_space
        if isinstance(space, spaces.Dict):
            orders = channels_order if isinstance(channels_order, dict) else {k: channels_order for k in space.spaces}
            self.stacked_obs = {k: StackedObservations(venv.num_envs, n_stack, s, orders.get(k))
                                for k, s in space.spaces.items()}
            stacked_space = spaces.Dict({k: st.stacked_observation_space for k, st in self.stacked_obs.items()})
        elif isinstance(space, spaces.Box):
            if isinstance(channels_order, dict):
                raise ValueError("channels_order can only be a dict for Dict observation spaces")
            self.stacked_obs = StackedObservations(venv.num_envs, n_stack, space, channels_order)
            stacked_space = self.stacked_obs.stacked_observation_space
        else:
            raise ValueError(f"VecFrameStack only supports Box and Dict observation spaces, got {space}")
        super().__init__(venv, observation_space=stacked_space)

    def step_wait(self):
        observations, rewards, dones, infos = self.venv.step_wait()
        if isinstance(self.stacked_obs, dict):
            out = {}
            for key, stack in self.stacked_obs.items():
                key_infos = [{"terminal_observation": info["terminal_observation"][key]}
                             if "terminal_observation" in info else {} for info in infos]
                out[key], key_infos = stack.update(observations[key], dones, key_infos)
                for info, key_info in zip(infos, key_infos):
                    if "terminal_observation" in key_info:
                        info.setdefault("_stacked_terminal", {})[key] = key_info["terminal_observation"]
            for info in infos:
                if "_stacked_terminal" in info:
                    info["terminal_observation"] = info.pop("_stacked_terminal")
            return out, rewards, dones, infos
        observations, infos = self.stacked_obs.update(observations, dones, infos)
        return observations, rewards, dones, infos

    def reset(self):
        observations = self.venv.reset()
        if isinstance(self.stacked_obs, dict):
            return {k: stack.reset(observations[k]) for k, stack in self.stacked_obs.items()}
        return self.stacked_obs.reset(observations)
