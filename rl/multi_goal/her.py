"""Hindsight Experience Replay (Andrychowicz et al. 2017) as a replay buffer, SB3's HerReplayBuffer.

Transitions are stored as they happened, together with the episode each belongs to:
ep_start[t, e] and ep_length[t, e] (0 while the episode is still running, so an unfinished
episode is never sampled). Relabelling happens at sampling time, for the whole batch at once:

    virtual = first int(B * (1 - 1 / (n_sampled_goal + 1))) rows of a uniform batch of finished-episode transitions
    j       ~ future: U{t, ..., T-1} (t itself included), final: T-1, episode: U{0, ..., T-1}   (indices in the episode)
    g'      = next_achieved_goal[j]             (a goal the same episode reached at or after step t)
    r'      = env.compute_reward(next_achieved_goal[t], g', info)        one batched call for all rows
    done'   = env.compute_terminated(next_achieved_goal[t], g', info)    when the env defines it

Several envs each write their own column, and episodes cut by time limits are closed like any
other: an episode is whatever lies between two done flags of its sub-env.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from gymnasium import spaces

from ..core.dict_replay_buffer import DictReplayBuffer, DictReplayBufferSamples
from ..core.replay_buffer import _truncation_flags, register_replay_buffer_class
from ..core.validation import check_value

__all__ = ["HerReplayBuffer", "GoalSelectionStrategy", "KEY_TO_GOAL_STRATEGY"]


class GoalSelectionStrategy(IntEnum):
    """Where relabelled goals come from: later in the episode, its last step, or anywhere in it."""

    FUTURE = 0
    FINAL = 1
    EPISODE = 2


KEY_TO_GOAL_STRATEGY = {"future": GoalSelectionStrategy.FUTURE, "final": GoalSelectionStrategy.FINAL,
                        "episode": GoalSelectionStrategy.EPISODE}


def _as_strategy(value) -> GoalSelectionStrategy:
    if isinstance(value, (GoalSelectionStrategy, int, np.integer)) and not isinstance(value, bool):
        return GoalSelectionStrategy(int(value))
    key = str(value).split(".")[-1].lower()
    if key not in KEY_TO_GOAL_STRATEGY:
        raise ValueError(f"goal_selection_strategy must be one of {list(KEY_TO_GOAL_STRATEGY)}, got {value!r}")
    return KEY_TO_GOAL_STRATEGY[key]


def _goal_env(env):
    """The object whose compute_reward HER calls: the env itself, or sub-env 0 of a vector env."""
    base = getattr(env, "unwrapped", env)
    if hasattr(base, "num_envs"):  # a gymnasium vector env
        if getattr(base, "envs", None):  # SyncVectorEnv
            return getattr(base.envs[0], "unwrapped", base.envs[0])
        if getattr(base, "env_fns", None):  # AsyncVectorEnv: a local copy, for its reward function only
            local = base.env_fns[0]()
            return getattr(local, "unwrapped", local)
        raise ValueError(f"cannot reach the sub-envs of {type(base).__name__} to call compute_reward")
    return base


def _split_infos(infos, dones: np.ndarray, n_envs: int) -> list:
    """A vector step's infos (dict of arrays, or a list) -> one dict per sub-env (final_info for finished ones)."""
    if infos is None:
        return [{} for _ in range(n_envs)]
    if not isinstance(infos, dict):
        return [dict(info) for info in infos]

    def pick(d: dict, i: int) -> dict:
        out = {}
        for k, v in d.items():
            if k.startswith("_") or (f"_{k}" in d and not np.asarray(d[f"_{k}"])[i]):
                continue
            out[k] = pick(v, i) if isinstance(v, dict) else np.asarray(v)[i]
        return out

    final = infos.get("final_info", {})
    return [pick(final, i) if dones[i] and final else pick({k: v for k, v in infos.items() if k != "final_info"}, i)
            for i in range(n_envs)]


@register_replay_buffer_class
class HerReplayBuffer(DictReplayBuffer):
    """Replay buffer for GoalEnvs (Dict obs with achieved_goal / desired_goal) that relabels goals when sampled.

    env: the (vector) env whose unwrapped `compute_reward(achieved_goal, desired_goal, info)` accepts
    batches (and `compute_terminated`, if defined); the algorithm passes its own. n_sampled_goal: k
    virtual transitions per real one (fraction k / (k + 1) of each batch). copy_info_dict: keep each
    step's info for compute_reward (not saved by state_dict). Each sub-env column must hold at least
    one whole episode (buffer_size // n_envs slots).
    """

    def __init__(self, buffer_size: int, observation_space: spaces.Dict, action_space: spaces.Space, env=None,
                 device: str = "auto", n_envs: int = 1, optimize_memory_usage: bool = False,
                 handle_timeout_termination: bool = True, n_sampled_goal: int = 4,
                 goal_selection_strategy="future", copy_info_dict: bool = False, dtype=np.float32, seed=None):
        for name, value in (("n_sampled_goal", n_sampled_goal), ("copy_info_dict", copy_info_dict),
                            ("handle_timeout_termination", handle_timeout_termination)):
            check_value(name, value)
        super().__init__(buffer_size, observation_space, action_space, n_envs=n_envs,
                         optimize_memory_usage=optimize_memory_usage,
                         handle_timeout_termination=handle_timeout_termination, dtype=dtype, seed=seed)
        for key in ("achieved_goal", "desired_goal"):
            if key not in self.obs_shapes:
                raise ValueError(f"HerReplayBuffer needs a GoalEnv observation space with 'achieved_goal' and "
                                 f"'desired_goal' keys, got keys {sorted(self.obs_shapes)}")
        if self.obs_shapes["achieved_goal"] != self.obs_shapes["desired_goal"]:
            raise ValueError(f"achieved_goal {self.obs_shapes['achieved_goal']} and desired_goal "
                             f"{self.obs_shapes['desired_goal']} must have the same shape")
        self.n_sampled_goal = int(n_sampled_goal)
        self.her_ratio = 1.0 - 1.0 / (self.n_sampled_goal + 1)
        self.goal_selection_strategy = _as_strategy(goal_selection_strategy)
        self.copy_info_dict = bool(copy_info_dict)
        size, n = self.buffer_size, self.n_envs
        self.ep_start = np.zeros((size, n), np.int64)
        self.ep_length = np.zeros((size, n), np.int64)  # 0: not part of a finished episode
        self.timeouts = np.zeros((size, n), bool)
        self._current_ep_len = np.zeros(n, np.int64)
        self.infos = np.empty((size, n), dtype=object) if self.copy_info_dict else None
        self.set_env(env)

    def set_env(self, env) -> None:
        """Attach the env used for compute_reward / compute_terminated (None: attach one before sampling)."""
        self.env = env
        self._compute_reward = self._compute_terminated = None
        if env is None:
            return
        target = _goal_env(env)
        if not callable(getattr(target, "compute_reward", None)):
            raise ValueError(f"HerReplayBuffer needs an env with a vectorised compute_reward(achieved_goal, "
                             f"desired_goal, info) (the GoalEnv contract); {type(target).__name__} has none")
        self._compute_reward = target.compute_reward
        self._compute_terminated = getattr(target, "compute_terminated", None)

    def reset(self) -> None:
        super().reset()
        self.ep_length[:] = 0
        self._current_ep_len[:] = 0

    # ------------------------------------------------------------------ storing
    def add(self, obs: dict, next_obs: dict, action, reward, done, infos=None, truncated=None) -> None:
        """Store one vector-env step (dicts of (n_envs, *shape) arrays).

        done = terminated | truncated ends the episode.
        """
        done = np.asarray(done, bool).reshape(self.n_envs)
        pos = self.pos
        for e in np.flatnonzero(self.ep_length[pos] > 0):  # the slot overwritten is in a finished episode: drop it
            self._forget_episode(pos, e)
        super().add(obs, next_obs, action, reward, done, infos, truncated)
        self.timeouts[pos] = done & _truncation_flags(infos, truncated, self.n_envs)
        if self.copy_info_dict:
            self.infos[pos] = _split_infos(infos, done, self.n_envs)
        self._current_ep_len += 1
        for e in np.flatnonzero(done):
            self._close_episode(e)

    def _forget_episode(self, slot: int, env_idx: int) -> None:
        start, length = self.ep_start[slot, env_idx], self.ep_length[slot, env_idx]
        self.ep_length[(start + np.arange(length)) % self.buffer_size, env_idx] = 0

    def _close_episode(self, env_idx: int) -> None:
        """Mark the running episode of sub-env env_idx (ending at pos - 1) as finished and sampleable."""
        length = int(min(self._current_ep_len[env_idx], self.buffer_size))  # a longer one lost its beginning
        if length == 0:
            return
        start = (self.pos - length) % self.buffer_size
        idx = (start + np.arange(length)) % self.buffer_size
        self.ep_start[idx, env_idx] = start
        self.ep_length[idx, env_idx] = length
        self._current_ep_len[env_idx] = 0

    def truncate_last_trajectory(self) -> None:
        """Close unfinished episodes as if cut by a time limit (before the env is reset, or after loading)."""
        last = (self.pos - 1) % self.buffer_size
        for e in np.flatnonzero(self._current_ep_len > 0):
            self.dones[last, e] = 0.0  # bootstrap through the cut
            self.timeouts[last, e] = True
            self._close_episode(e)

    # ------------------------------------------------------------------ sampling
    def _sample_goals(self, flat_idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """New desired goals (B, *goal_shape): next achieved goals of the same episodes, picked by the strategy."""
        slot, env_idx = np.divmod(flat_idx, self.n_envs)
        start, length = self._take(self.ep_start, flat_idx), self._take(self.ep_length, flat_idx)
        if self.goal_selection_strategy == GoalSelectionStrategy.FINAL:
            j = length - 1
        else:  # j uniform in {low, ..., length - 1}; future: low = t, so the current transition may be picked
            low = (slot - start) % self.buffer_size if self.goal_selection_strategy == GoalSelectionStrategy.FUTURE \
                else np.zeros_like(length)
            j = low + (rng.random(len(flat_idx)) * (length - low)).astype(np.int64)
        goal_idx = ((start + j) % self.buffer_size) * self.n_envs + env_idx
        return self._take(self.next_observations["achieved_goal"], goal_idx)

    def _env_infos(self, flat_idx: np.ndarray) -> list:
        if not self.copy_info_dict:
            return [{} for _ in range(len(flat_idx))]
        return [dict(info or {}) for info in self._take(self.infos, flat_idx)]

    def sample(self, batch_size: int, rng: np.random.Generator | None = None) -> DictReplayBufferSamples:
        """B transitions of finished episodes; the first B * k / (k + 1) carry relabelled goals and rewards."""
        rng = self.rng if rng is None else rng
        is_valid = self.ep_length[:self.size()] > 0
        valid = np.flatnonzero(is_valid)
        if valid.size == 0:
            raise RuntimeError("HerReplayBuffer cannot sample before the first episode has ended; use a "
                               "learning_starts larger than the episode length")
        if self._compute_reward is None:
            raise RuntimeError("HerReplayBuffer has no env to recompute rewards with: pass env= or call "
                               "model.set_env(env) / replay_buffer.set_env(env) before training")
        flat_idx = valid[rng.integers(0, valid.size, size=int(batch_size))]  # slot * n_envs + env
        data = self._gather(flat_idx)
        n_virtual = int(self.her_ratio * int(batch_size))
        if n_virtual == 0:
            return data
        virtual = flat_idx[:n_virtual]
        goals = self._sample_goals(virtual, rng)
        data.observations["desired_goal"][:n_virtual] = goals
        data.next_observations["desired_goal"][:n_virtual] = goals
        achieved = data.next_observations["achieved_goal"][:n_virtual]
        infos = self._env_infos(virtual)
        rewards = np.asarray(self._compute_reward(achieved, goals, infos), np.float32)
        data.rewards[:n_virtual, 0] = rewards.reshape(n_virtual)
        if self._compute_terminated is not None:
            terminated = np.asarray(self._compute_terminated(achieved, goals, infos), bool).reshape(n_virtual)
            cut = self._take(self.timeouts, virtual) & (not self.handle_timeout_termination)
            data.dones[:n_virtual, 0] = terminated | cut
        return data

    # ------------------------------------------------------------------ saving
    def state_dict(self) -> dict:
        """DictReplayBuffer arrays plus the episode bookkeeping (infos are not saved)."""
        state = super().state_dict()
        n = self.size()
        state.update(ep_start=self.ep_start[:n].copy(), ep_length=self.ep_length[:n].copy(),
                     timeouts=self.timeouts[:n].copy(), current_ep_len=self._current_ep_len.copy())
        return state

    def check_state(self, state: dict) -> int:
        """DictReplayBuffer.check_state plus the episode bookkeeping (arrays or corenn ArraySpecs) -> rows."""
        if not isinstance(state, dict):
            raise ValueError(f"a replay buffer state must be a dict, got {type(state).__name__}")
        missing = [k for k in ("ep_start", "ep_length", "timeouts", "current_ep_len") if k not in state]
        if missing:
            raise ValueError(f"saved HerReplayBuffer state is missing {missing}")
        n = super().check_state({k: v for k, v in state.items()
                                 if k not in ("ep_start", "ep_length", "timeouts", "current_ep_len")})
        checks = (("ep_start", (n, self.n_envs), np.int64, 0, self.buffer_size - 1),
                  ("ep_length", (n, self.n_envs), np.int64, 0, self.buffer_size),
                  ("timeouts", (n, self.n_envs), np.bool_, 0, 1),
                  ("current_ep_len", (self.n_envs,), np.int64, 0, 2**62))
        for name, shape, dtype, low, high in checks:
            value = state[name]
            ok = hasattr(value, "shape") and tuple(value.shape) == shape and np.dtype(value.dtype) == dtype
            if ok and isinstance(value, np.ndarray) and value.size:
                ok = bool(value.min() >= low and value.max() <= high)
            if not ok:
                raise ValueError(f"saved {name} must be {np.dtype(dtype)} {shape} with values in [{low}, {high}]")
        return n

    def load_state_dict(self, state: dict) -> None:
        """Restore from `state_dict()`; an episode left running is closed by `truncate_last_trajectory` later.

        Everything is checked first (`check_state`): a refused state leaves the buffer as it was."""
        n = self.check_state(state)
        self._assign(state, n)
        for name in ("ep_start", "ep_length", "timeouts"):
            getattr(self, name)[:n] = state[name]
        self._current_ep_len = np.array(state["current_ep_len"], np.int64)
