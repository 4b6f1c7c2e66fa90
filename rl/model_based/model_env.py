"""Rollouts in the learned model (mbrl-lib's ModelEnv) and the buffer that holds them (MBPO's model pool).

    next_obs, reward = s + delta, r   with [delta, r] ~ N(mean, var) of a random elite member per row
    done = termination_fn(next_obs)

`ModelEnv.rollout` starts from real observations and follows the policy for `length` steps; a row
stops after its first done. Every transition goes to a `ModelReplayBuffer`, a ReplayBuffer with one
"env" that takes batches of any size (`extend`) and can be rebuilt larger keeping its newest rows
(`resized`), as mbrl-lib does when the rollout length grows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from gymnasium import spaces

from ..core.replay_buffer import ReplayBuffer
from .ensemble import ProbabilisticEnsemble

__all__ = ["ModelEnv", "ModelReplayBuffer"]


class ModelReplayBuffer(ReplayBuffer):
    """Ring buffer of model transitions: obs (N, obs_dim), actions (N, A) in [-1, 1], rewards and dones (N,)."""

    def __init__(self, buffer_size: int, observation_space: spaces.Space, action_space: spaces.Space):
        super().__init__(buffer_size, observation_space, action_space, n_envs=1)

    def extend(self, obs, actions, next_obs, rewards, dones) -> None:
        """Append N transitions (oldest overwritten when full); arrays have N rows."""
        n = len(obs)
        if n > self.buffer_size:  # only the newest rows fit
            obs, actions, next_obs, rewards, dones = (a[-self.buffer_size:] for a in
                                                      (obs, actions, next_obs, rewards, dones))
            n = self.buffer_size
        rows = (self.pos + np.arange(n)) % self.buffer_size
        self.observations[rows, 0] = obs
        self.next_observations[rows, 0] = next_obs
        self.actions[rows, 0] = actions
        self.rewards[rows, 0] = rewards
        self.dones[rows, 0] = dones
        self.full = self.full or self.pos + n >= self.buffer_size
        self.pos = int((self.pos + n) % self.buffer_size)

    def newest(self) -> tuple:
        """All stored transitions, oldest first: (obs, actions, next_obs, rewards, dones)."""
        n = self.size()
        rows = (np.arange(n) + (self.pos if self.full else 0)) % self.buffer_size
        return (self.observations[rows, 0], self.actions[rows, 0], self.next_observations[rows, 0],
                self.rewards[rows, 0], self.dones[rows, 0])

    def resized(self, buffer_size: int) -> ModelReplayBuffer:
        """A buffer of `buffer_size` rows holding this one's newest transitions (self if the size is the same)."""
        if int(buffer_size) == self.buffer_size:
            return self
        new = ModelReplayBuffer(buffer_size, self.observation_space, self.action_space)
        if self.size():
            new.extend(*self.newest())
        return new


class ModelEnv:
    """The dynamics ensemble as a batched environment: observations (N, obs_dim), actions (N, A) in [-1, 1]."""

    def __init__(self, model: ProbabilisticEnsemble, termination_fn: Callable[[np.ndarray], np.ndarray]):
        self.model, self.termination_fn = model, termination_fn

    def step(self, obs: np.ndarray, actions: np.ndarray, rng: np.random.Generator):
        """-> next_obs (N, obs_dim), rewards (N,), dones (N,) bool, sampled from a random elite per row."""
        out = self.model.sample(np.concatenate([obs, actions], axis=1), rng)
        next_obs = (obs + out[:, :-1]).astype(np.float32)
        return next_obs, out[:, -1], np.asarray(self.termination_fn(next_obs), bool)

    def rollout(self, start_obs: np.ndarray, length: int, act: Callable[[np.ndarray], np.ndarray],
                buffer: ModelReplayBuffer, rng: np.random.Generator) -> int:
        """`length` steps from start_obs (N, obs_dim) with actions act(obs) in [-1, 1], stored in `buffer`;
        rows that are done stop. Returns the number of transitions stored."""
        obs, stored = np.asarray(start_obs, np.float32), 0
        for _ in range(int(length)):
            if len(obs) == 0:
                break
            actions = act(obs)
            next_obs, rewards, dones = self.step(obs, actions, rng)
            buffer.extend(obs, actions, next_obs, rewards, dones.astype(np.float32))
            stored += len(obs)
            obs = next_obs[~dones]
        return stored
