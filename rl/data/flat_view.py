"""A dataset's episodes as D4RL-style flat arrays of transitions, what offline algorithms train on.

    data = flat_view(load_dataset("corenn/hopper/expert-v0"))
    batch = data.sample(256, rng)      # dict: observations, actions, rewards, next_observations, terminals, timeouts

For T transitions (the sum of the episode lengths):
    observations, next_observations  (T, *obs_shape)  float32 for Box spaces (D4RL's dtype), else as stored
    actions                          (T, *action_shape) float32 for Box, int64 for Discrete
    rewards                          (T,) float32
    terminals                        (T,) bool: the env terminated (no bootstrapping from next_observations)
    timeouts                         (T,) bool: the episode was cut there (truncated and not terminated, or an
                                     episode that ends with neither flag): bootstrap, but do not cross over
    episode_ids                      (T,) int64: the episode each transition comes from
Unlike D4RL's qlearning_dataset, no transition is dropped: Minari keeps each episode's final observation,
so next_observations is exact at timeouts too.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from .episode import DatasetError
from .minari_format import OfflineDataset

__all__ = ["FlatDataset", "flat_view", "FIELDS"]

FIELDS = ("observations", "actions", "rewards", "next_observations", "terminals", "timeouts")


@dataclass
class FlatDataset:
    """Transitions as flat arrays (see the module docstring) with the spaces and reference scores."""

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_observations: np.ndarray
    terminals: np.ndarray
    timeouts: np.ndarray
    episode_ids: np.ndarray
    observation_space: gym.Space
    action_space: gym.Space
    dataset_id: str | None = None
    env_id: str | None = None
    ref_min_score: float | None = None
    ref_max_score: float | None = None

    def __len__(self) -> int:
        return int(self.rewards.shape[0])

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict:
        """A uniform minibatch (with replacement) of every field in FIELDS."""
        if len(self) == 0:
            raise ValueError("cannot sample from an empty dataset")
        idx = rng.integers(0, len(self), size=int(batch_size))
        return {name: getattr(self, name)[idx] for name in FIELDS}

    def episode_returns(self) -> np.ndarray:
        """The undiscounted return of every episode, in order (E,)."""
        return np.bincount(self.episode_ids, weights=self.rewards.astype(np.float64))


def _stacked(parts: list, dtype) -> np.ndarray:
    arr = np.concatenate(parts, axis=0)
    return arr if dtype is None else arr.astype(dtype, copy=False)


def flat_view(dataset: OfflineDataset) -> FlatDataset:
    """The D4RL-style transitions of a loaded dataset (array observations; Dict observations are refused)."""
    obs_space, act_space = dataset.observation_space, dataset.action_space
    if isinstance(obs_space, gym.spaces.Dict):
        raise DatasetError(f"{dataset.dataset_id}: the flat view needs array observations; this dataset has "
                           f"a Dict observation space ({sorted(obs_space.spaces)})")
    if not dataset.episodes:
        raise DatasetError(f"{dataset.dataset_id}: the dataset has no episodes")
    obs_dtype = np.float32 if isinstance(obs_space, gym.spaces.Box) and obs_space.dtype.kind == "f" else None
    act_dtype = np.float32 if isinstance(act_space, gym.spaces.Box) else np.int64
    obs, next_obs, actions, rewards, terminals, timeouts, ids = [], [], [], [], [], [], []
    for i, ep in enumerate(dataset.episodes):
        o = np.asarray(ep.observations)
        n = len(ep)
        term = np.asarray(ep.terminations, bool)
        trunc = np.asarray(ep.truncations, bool)
        timeout = trunc & ~term
        if not term[-1]:
            timeout[-1] = True  # an episode that ends without a flag was cut there (Minari's flush does the same)
        obs.append(o[:-1])
        next_obs.append(o[1:])
        actions.append(np.asarray(ep.actions))
        rewards.append(np.asarray(ep.rewards))
        terminals.append(term)
        timeouts.append(timeout)
        ids.append(np.full(n, i, np.int64))
    return FlatDataset(
        observations=_stacked(obs, obs_dtype), actions=_stacked(actions, act_dtype),
        rewards=_stacked(rewards, np.float32), next_observations=_stacked(next_obs, obs_dtype),
        terminals=_stacked(terminals, bool), timeouts=_stacked(timeouts, bool), episode_ids=_stacked(ids, None),
        observation_space=obs_space, action_space=act_space, dataset_id=dataset.dataset_id, env_id=dataset.env_id,
        ref_min_score=dataset.ref_min_score, ref_max_score=dataset.ref_max_score)
