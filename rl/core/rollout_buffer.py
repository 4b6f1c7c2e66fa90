"""On-policy rollout storage with GAE(lambda) (SB3 RolloutBuffer semantics).

Arrays are time-major, (n_steps, n_envs, ...). Observations are stored in the form the agent's
`ObsPreprocessor` gives them: flat float32 features (obs_shape (F,)), or raw observations in their own
dtype (uint8 images stay uint8, a quarter of float32's memory) with `obs_dtype`, or a dict of those
for Dict spaces (obs_shape and obs_dtype dicts by key); the policy preprocesses each minibatch.
Time limits: the caller adds `gamma * V(final_obs)` to the reward of a step whose episode was
truncated (not terminated), and passes `episode_start = terminated | truncated` for the next step,
so GAE never bootstraps across an episode boundary but still values what lies beyond a time limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

__all__ = ["RolloutBuffer", "RolloutBufferSamples", "compute_gae", "take_rows"]


def take_rows(obs, idx):
    """Rows `idx` of a batch of observations: an array (B, ...) or a dict of them."""
    if isinstance(obs, dict):
        return {k: v[idx] for k, v in obs.items()}
    return obs[idx]


class RolloutBufferSamples(NamedTuple):
    observations: np.ndarray   # (B, *obs_shape) in the stored dtype, or a dict of such arrays
    actions: np.ndarray        # (B,) int64 or (B, act_dim) float32
    old_values: np.ndarray     # (B,)
    old_log_prob: np.ndarray   # (B,)
    advantages: np.ndarray     # (B,)
    returns: np.ndarray        # (B,)


def compute_gae(rewards, values, episode_starts, last_values, dones, gamma: float, gae_lambda: float):
    """GAE over (T, N) arrays. episode_starts[t]=1 if obs t starts an episode; dones: (N,) after the
    last step; last_values: (N,) V of the obs after the last step. Returns (advantages, returns)."""
    n_steps = rewards.shape[0]
    advantages = np.zeros_like(rewards, dtype=np.float32)
    last_gae = np.zeros(rewards.shape[1], np.float32)
    gamma, lam = np.float32(gamma), np.float32(gae_lambda)
    for t in range(n_steps - 1, -1, -1):
        if t == n_steps - 1:
            next_non_terminal = 1.0 - np.asarray(dones, np.float32)
            next_values = np.asarray(last_values, np.float32)
        else:
            next_non_terminal = 1.0 - episode_starts[t + 1]
            next_values = values[t + 1]
        delta = rewards[t] + gamma * next_values * next_non_terminal - values[t]
        last_gae = delta + gamma * lam * next_non_terminal * last_gae
        advantages[t] = last_gae
    return advantages, advantages + values


class RolloutBuffer:
    """Fixed-size buffer of `n_steps` vector-env steps.

    obs_shape: single-env observation shape (a dict of shapes for Dict observations); obs_dtype: their
    dtype (float32 by default; a dict by key with dict shapes); action_shape: () for Discrete, (act_dim,) for Box.
    """

    def __init__(self, n_steps: int, n_envs: int, obs_shape, action_shape: tuple,
                 action_dtype=np.float32, gamma: float = 0.99, gae_lambda: float = 1.0, obs_dtype=np.float32):
        self.n_steps, self.n_envs = int(n_steps), int(n_envs)
        if isinstance(obs_shape, dict):
            self.obs_shape = {k: tuple(v) for k, v in obs_shape.items()}
            dtypes = obs_dtype if isinstance(obs_dtype, dict) else dict.fromkeys(obs_shape, obs_dtype)
            self.obs_dtype = {k: np.dtype(dtypes[k]) for k in self.obs_shape}
        else:
            self.obs_shape, self.obs_dtype = tuple(obs_shape), np.dtype(obs_dtype)
        self.action_shape = tuple(action_shape)
        self.action_dtype = action_dtype
        self.gamma, self.gae_lambda = float(gamma), float(gae_lambda)
        self.reset()

    def reset(self) -> None:
        T, N = self.n_steps, self.n_envs
        if isinstance(self.obs_shape, dict):
            self.observations = {k: np.zeros((T, N) + shape, self.obs_dtype[k]) for k, shape in self.obs_shape.items()}
        else:
            self.observations = np.zeros((T, N) + self.obs_shape, self.obs_dtype)
        self.actions = np.zeros((T, N) + self.action_shape, self.action_dtype)
        self.rewards = np.zeros((T, N), np.float32)
        self.episode_starts = np.zeros((T, N), np.float32)
        self.values = np.zeros((T, N), np.float32)
        self.log_probs = np.zeros((T, N), np.float32)
        self.advantages = np.zeros((T, N), np.float32)
        self.returns = np.zeros((T, N), np.float32)
        self.pos = 0
        self.full = False

    def add(self, obs, action, reward, episode_start, value, log_prob) -> None:
        """One vector step: obs (N, *obs_shape), action (N, *action_shape), the rest (N,)."""
        if self.full:
            raise RuntimeError("rollout buffer is full; call reset() before adding more steps")
        p = self.pos
        if isinstance(self.observations, dict):
            for k, stored in self.observations.items():
                stored[p] = obs[k]
        else:
            self.observations[p] = obs
        self.actions[p] = np.asarray(action).reshape((self.n_envs,) + self.action_shape)
        self.rewards[p] = reward
        self.episode_starts[p] = episode_start
        self.values[p] = np.asarray(value).reshape(self.n_envs)
        self.log_probs[p] = np.asarray(log_prob).reshape(self.n_envs)
        self.pos += 1
        self.full = self.pos == self.n_steps

    def compute_returns_and_advantage(self, last_values: np.ndarray, dones: np.ndarray) -> None:
        """last_values: (N,) V(obs after the last step); dones: (N,) whether that step ended an episode."""
        self.last_values = np.asarray(last_values, np.float32).reshape(self.n_envs)
        self.last_dones = np.asarray(dones, np.float32).reshape(self.n_envs)
        self.advantages, self.returns = compute_gae(
            self.rewards, self.values, self.episode_starts, self.last_values, self.last_dones,
            self.gamma, self.gae_lambda)

    def flat(self) -> RolloutBufferSamples:
        """All stored data with (T, N) flattened to T*N (views, no copies)."""
        B = self.n_steps * self.n_envs
        if isinstance(self.observations, dict):
            obs = {k: v.reshape((B,) + self.obs_shape[k]) for k, v in self.observations.items()}
        else:
            obs = self.observations.reshape((B,) + self.obs_shape)
        return RolloutBufferSamples(
            obs, self.actions.reshape((B,) + self.action_shape),
            self.values.reshape(B), self.log_probs.reshape(B), self.advantages.reshape(B), self.returns.reshape(B))

    def get(self, batch_size: int | None, rng: np.random.Generator) -> Iterator[RolloutBufferSamples]:
        """Shuffled minibatches of `batch_size` (None: one batch of everything); one fancy-index gather each."""
        if not self.full:
            raise RuntimeError(f"rollout buffer holds {self.pos}/{self.n_steps} steps; fill it before get()")
        data = self.flat()
        total = self.n_steps * self.n_envs
        if batch_size is None or batch_size >= total:
            yield data  # one full batch: order does not change the mean loss
            return
        perm = rng.permutation(total)
        for start in range(0, total, batch_size):
            idx = perm[start:start + batch_size]
            yield RolloutBufferSamples(*(take_rows(a, idx) for a in data))
