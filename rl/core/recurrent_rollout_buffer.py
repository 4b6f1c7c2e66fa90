"""Rollout storage for recurrent policies (RecurrentPPO): a RolloutBuffer that also keeps the LSTM states
and yields minibatches of whole sequences.

Besides RolloutBuffer's arrays (time-major (n_steps, n_envs, ...)) it stores, at every step, the actor's
and the critic's LSTM states (h, c) from BEFORE that step's episode-start reset: four arrays
(n_steps, n_lstm_layers, n_envs, H).

Sequences (a simpler scheme than sb3-contrib's per-episode padding, with the same result): each env's
column of n_steps is cut into chunks of seq_len = min(n_steps, batch_size) consecutive steps (the last one
padded when seq_len does not divide n_steps; padded steps have mask 0). A chunk starts from the stored
states of its first step and its episode_starts go with it, so the policy zeroes the states inside a
chunk exactly where collection did. A minibatch holds max(1, batch_size // seq_len) chunks; data come
time-major, flattened to (seq_len * n_seq,).
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
        """Shuffled minibatches of whole chunks (see the module docstring); None: everything in one batch."""
        if not self.full:
            raise RuntimeError(f"rollout buffer holds {self.pos}/{self.n_steps} steps; fill it before get()")
        T, N = self.n_steps, self.n_envs
        seq_len = T if batch_size is None else max(1, min(T, int(batch_size)))
        starts = np.arange(0, T, seq_len)
        chunks = [(s, e) for e in range(N) for s in starts]  # (start step, env)
        per_batch = len(chunks) if batch_size is None else max(1, int(batch_size) // seq_len)
        order = np.arange(len(chunks)) if per_batch >= len(chunks) else rng.permutation(len(chunks))
        for b in range(0, len(chunks), per_batch):
            yield self._gather([chunks[i] for i in order[b:b + per_batch]], seq_len)

    def _gather(self, chunks: list, seq_len: int) -> RecurrentRolloutBufferSamples:
        start = np.array([s for s, _ in chunks])
        env = np.array([e for _, e in chunks])
        t = start[None, :] + np.arange(seq_len)[:, None]          # (S, B)
        valid = t < self.n_steps
        t = np.minimum(t, self.n_steps - 1)
        e = np.broadcast_to(env[None, :], t.shape)
        flat = (t.reshape(-1), e.reshape(-1))

        def take(a):
            return a[flat]
        obs = {k: take(v) for k, v in self.observations.items()} if isinstance(self.observations, dict) \
            else take(self.observations)
        starts = self.episode_starts[t, e].copy()
        starts[~valid] = 0.0
        hs = self.hidden_states
        states = tuple((hs[f"{k}_h"][start, :, env].transpose(1, 0, 2).copy(),
                        hs[f"{k}_c"][start, :, env].transpose(1, 0, 2).copy()) for k in ("pi", "vf"))
        return RecurrentRolloutBufferSamples(
            obs, take(self.actions), take(self.values), take(self.log_probs), take(self.advantages),
            take(self.returns), states, starts, valid.reshape(-1).astype(np.float32))
