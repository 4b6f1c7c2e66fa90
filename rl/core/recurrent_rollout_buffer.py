"""Rollout storage for recurrent policies (RecurrentPPO): a RolloutBuffer that also keeps the LSTM states
and yields minibatches of whole sequences.

Besides RolloutBuffer's arrays (time-major (n_steps, n_envs, ...)) it stores, at every step, the actor's
and the critic's LSTM states (h, c) from BEFORE that step's episode-start reset: four arrays
(n_steps, n_lstm_layers, n_envs, H).

Minibatches (sb3-contrib's scheme, so the same split index gives the same minibatches): the steps are
ordered env-major (index env * n_steps + t), rotated to start at a random split index, and cut into
consecutive blocks of batch_size steps. Inside a block a sequence starts at its first step, at each env's
step 0 and at every episode start, so no sequence crosses an episode start (one LSTM call per minibatch)
and the one cut at the split point or a block edge restarts from the states stored there. Sequences are
padded at their end to the longest one (padding: zeros, mask 0) and laid out time-major:
(max_len, n_seq), flattened to (max_len * n_seq,).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from .rollout_buffer import RolloutBuffer

__all__ = ["RecurrentRolloutBuffer", "RecurrentRolloutBufferSamples"]


class RecurrentRolloutBufferSamples(NamedTuple):
    observations: np.ndarray   # (S*B, *obs_shape), time-major (or a dict of such arrays)
    actions: np.ndarray        # (S*B,) int64 or (S*B, act_dim)
    old_values: np.ndarray     # (S*B,)
    old_log_prob: np.ndarray   # (S*B,)
    advantages: np.ndarray     # (S*B,)
    returns: np.ndarray        # (S*B,)
    lstm_states: tuple         # RNNStates-like (pi=(h, c), vf=(h, c)), each (L, B, H): states before step 0
    episode_starts: np.ndarray  # (S, B)
    mask: np.ndarray           # (S*B,) 1.0 for real steps, 0.0 for padding


class RecurrentRolloutBuffer(RolloutBuffer):
    """RolloutBuffer plus LSTM states; `lstm_state_shape` = (n_lstm_layers, hidden_size)."""

    def __init__(self, n_steps: int, n_envs: int, obs_shape, action_shape: tuple, lstm_state_shape: tuple,
                 action_dtype=np.float32, gamma: float = 0.99, gae_lambda: float = 1.0, obs_dtype=np.float32):
        self.lstm_state_shape = tuple(int(d) for d in lstm_state_shape)
        super().__init__(n_steps, n_envs, obs_shape, action_shape, action_dtype, gamma, gae_lambda, obs_dtype)

    def reset(self) -> None:
        super().reset()
        L, H = self.lstm_state_shape
        shape = (self.n_steps, L, self.n_envs, H)
        self.hidden_states = {k: np.zeros(shape, np.float32) for k in ("pi_h", "pi_c", "vf_h", "vf_c")}

    def add(self, obs, action, reward, episode_start, value, log_prob, lstm_states=None) -> None:
        """One vector step; lstm_states: (pi=(h, c), vf=(h, c)) before this step's reset, each (L, N, H)."""
        if lstm_states is None:
            raise ValueError("RecurrentRolloutBuffer.add needs lstm_states=(pi=(h, c), vf=(h, c))")
        p = self.pos
        super().add(obs, action, reward, episode_start, value, log_prob)
        (pi_h, pi_c), (vf_h, vf_c) = lstm_states
        for key, value_ in (("pi_h", pi_h), ("pi_c", pi_c), ("vf_h", vf_h), ("vf_c", vf_c)):
            self.hidden_states[key][p] = value_

    def get(self, batch_size: int | None, rng: np.random.Generator) -> Iterator[RecurrentRolloutBufferSamples]:
        """Minibatches of batch_size steps cut into padded sequences (see the module docstring); None: one
        minibatch of everything. One split index is drawn from `rng` per call (per epoch)."""
        if not self.full:
            raise RuntimeError(f"rollout buffer holds {self.pos}/{self.n_steps} steps; fill it before get()")
        total = self.n_steps * self.n_envs
        batch_size = total if batch_size is None else int(batch_size)
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive int or None, got {batch_size}")
        order = np.roll(np.arange(total), -int(rng.integers(total)))  # env-major indices from the split on
        for b in range(0, total, batch_size):
            yield self._gather(order[b:b + batch_size])

    def _gather(self, inds: np.ndarray) -> RecurrentRolloutBufferSamples:
        """inds: env-major step indices (env * n_steps + t) of one minibatch -> its padded sequences."""
        env, t = np.divmod(inds, self.n_steps)
        first = (t == 0) | (self.episode_starts[t, env] > 0)
        first[0] = True
        seq_start = np.flatnonzero(first)                                   # positions in inds
        length = np.diff(np.append(seq_start, len(inds)))
        pos = np.arange(int(length.max()))[:, None]                         # (max_len, 1)
        valid = pos < length[None, :]                                       # (max_len, n_seq)
        src = np.where(valid, seq_start[None, :] + pos, seq_start[None, :])  # padding reads the first step
        flat = (t[src].reshape(-1), env[src].reshape(-1))
        pad = ~valid.reshape(-1)

        def take(a):
            out = a[flat]
            out[pad] = 0
            return out
        obs = {k: take(v) for k, v in self.observations.items()} if isinstance(self.observations, dict) \
            else take(self.observations)
        t0, e0 = t[seq_start], env[seq_start]
        hs = self.hidden_states
        states = tuple((hs[f"{k}_h"][t0, :, e0].transpose(1, 0, 2).copy(),
                        hs[f"{k}_c"][t0, :, e0].transpose(1, 0, 2).copy()) for k in ("pi", "vf"))
        return RecurrentRolloutBufferSamples(
            obs, take(self.actions), take(self.values), take(self.log_probs), take(self.advantages),
            take(self.returns), states, take(self.episode_starts).reshape(valid.shape),
            valid.reshape(-1).astype(np.float32))
