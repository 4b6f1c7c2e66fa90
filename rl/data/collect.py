"""Recording episodes for offline datasets, with the kinds of data D4RL defined.

    episodes = run_policy(gym.make("CartPole-v1"), agent_policy(model), n_episodes=10, seed=0)

The kinds (`python -m rl collect --kind ...`), following D4RL (Fu et al. 2020, section 5):
- expert: a fully trained agent (a zoo agent, or --model) acting deterministically;
- medium: D4RL's is a policy trained to about a third of the expert's return. Ours is a checkpoint of a
  training run stopped there (--model rl_model_N_steps.npz, chosen by its evaluations); without one, the expert
  with added action noise (--action-noise) stands in and the dataset's description says so. No calibration is
  done for you: pick the checkpoint or noise whose return is about a third of the expert's;
- medium-replay: D4RL's is the replay buffer of the run that reached the medium policy. Ours converts a replay
  buffer saved by `python -m rl train ... --save-replay-buffer` (`episodes_from_replay_buffer`);
- random: uniform random actions (`action_space.sample()`, seeded).
Every episode is reset with seed `seed + i`, stored in the dataset, so a dataset can be re-collected exactly.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable

import gymnasium as gym
import numpy as np

import corenn

from .episode import DatasetError, Episode

__all__ = ["KINDS", "run_policy", "random_policy", "agent_policy", "episodes_from_replay_buffer"]

KINDS = ("expert", "medium", "random", "medium-replay")


def random_policy(action_space: gym.Space, seed: int | None = None) -> Callable:
    """obs -> a uniform random action (a seeded copy of the space samples it)."""
    space = copy.deepcopy(action_space)
    space.seed(seed)
    return lambda obs: space.sample()


def agent_policy(model, deterministic: bool = True, action_noise: float = 0.0, seed: int | None = None) -> Callable:
    """obs -> the agent's action (`model.predict`), with optional noise: for Box actions Gaussian noise of
    std `action_noise` x half the action range, clipped to the bounds; for Discrete actions a uniform random
    action with probability `action_noise` (epsilon-greedy)."""
    space = model.action_space
    rng = np.random.default_rng(seed)
    if action_noise < 0:
        raise ValueError(f"action_noise must be >= 0, got {action_noise}")

    def act(obs):
        action, _ = model.predict(obs, deterministic=deterministic)
        if action_noise <= 0:
            return action
        if isinstance(space, gym.spaces.Box):
            half = (space.high - space.low) / 2.0
            noisy = action + rng.normal(0.0, action_noise, size=space.shape) * half
            return np.clip(noisy, space.low, space.high).astype(space.dtype)
        if isinstance(space, gym.spaces.Discrete) and rng.random() < action_noise:
            return np.int64(space.start + rng.integers(space.n))
        return action

    return act


def run_policy(env: gym.Env, policy: Callable, n_episodes: int | None = None, n_steps: int | None = None,
               seed: int = 0, progress: Callable[[int, float], None] | None = None) -> list[Episode]:
    """Episodes of `policy` (obs -> action) in `env`: `n_episodes` whole ones, or `n_steps` steps in all (the
    last episode then ends truncated, as Minari's DataCollector does). Episode i is reset with seed + i.
    `progress(i, episode_return)` is called after each episode."""
    if (n_episodes is None) == (n_steps is None):
        raise ValueError("give exactly one of n_episodes and n_steps")
    if (n_episodes if n_episodes is not None else n_steps) < 1:
        raise ValueError("n_episodes / n_steps must be >= 1")
    episodes, total = [], 0
    while (n_episodes is not None and len(episodes) < n_episodes) or (n_steps is not None and total < n_steps):
        ep_seed = int(seed) + len(episodes)
        obs, _ = env.reset(seed=ep_seed)
        observations, actions, rewards, terms, truncs = [obs], [], [], [], []
        while True:
            action = policy(obs)
            obs, reward, terminated, truncated, _ = env.step(action)
            observations.append(obs)
            actions.append(action)
            rewards.append(float(reward))
            terms.append(bool(terminated))
            total += 1
            if n_steps is not None and total >= n_steps and not terminated:
                truncated = True
            truncs.append(bool(truncated))
            if terminated or truncated:
                break
        episode = Episode(observations=_stack(observations), actions=_stack(actions),
                          rewards=np.asarray(rewards, np.float64), terminations=np.asarray(terms, bool),
                          truncations=np.asarray(truncs, bool), seed=ep_seed)
        episodes.append(episode)
        if progress is not None:
            progress(len(episodes), episode.episode_return)
    return episodes


def _stack(values: list):
    if isinstance(values[0], dict):
        return {k: np.stack([v[k] for v in values]) for k in values[0]}
    return np.stack([np.asarray(v) for v in values])


# ----------------------------------------------------------------------------- medium-replay
def _read_buffer_file(path: str) -> dict:
    """The state of a file written by `save_replay_buffer`, its structure checked before any array is read."""

    def check(skeleton):
        if not isinstance(skeleton, dict) or skeleton.get("format") != "corenn-replay-buffer":
            raise DatasetError(f"{path} is not a replay buffer written by save_replay_buffer / --save-replay-buffer")
        state = skeleton.get("state")
        need = {"observations", "actions", "rewards", "dones", "pos", "full"}
        if not isinstance(state, dict) or not need <= set(state):
            raise DatasetError(f"{path}: the replay buffer state lacks {sorted(need - set(state or {}))}")
        if "next_observations" not in state:
            raise DatasetError(f"{path}: saved with optimize_memory_usage=True, which keeps no next observations "
                               "at episode ends; train the run with optimize_memory_usage=False")

    if not os.path.exists(path):
        raise FileNotFoundError(f"no replay buffer file {path!r}")
    return corenn.load(path, check=check)["state"]


def episodes_from_replay_buffer(path: str, observation_space: gym.Space, action_space: gym.Space) -> list[Episode]:
    """A replay buffer file (rows x n_envs) -> episodes in the order they were collected, per sub-env.

    The buffer keeps terminations (`dones`) but not truncations: an episode also ends where the next row's
    observation is not this row's next observation (a reset). Box actions are stored scaled to [-1, 1] and
    are mapped back to the env's bounds. The oldest episode of a wrapped buffer starts mid-episode, and the
    newest, unfinished one ends truncated (as Minari's DataCollector closes an unfinished episode)."""
    state = _read_buffer_file(path)
    obs, next_obs = np.asarray(state["observations"]), np.asarray(state["next_observations"])
    actions, rewards, dones = np.asarray(state["actions"]), np.asarray(state["rewards"]), np.asarray(state["dones"])
    n_rows = obs.shape[0]
    if n_rows == 0:
        raise DatasetError(f"{path}: the replay buffer is empty")
    pos, full = int(state["pos"]), bool(state["full"])
    order = np.r_[pos:n_rows, 0:pos] if full else np.arange(n_rows)  # oldest row first
    if isinstance(action_space, gym.spaces.Box):
        low, high = action_space.low, action_space.high
        actions = (low + 0.5 * (actions.reshape(actions.shape[:2] + action_space.shape) + 1.0) * (high - low))
        actions = np.clip(actions, low, high).astype(action_space.dtype)
    elif isinstance(action_space, gym.spaces.Discrete):
        actions = np.rint(actions[..., 0]).astype(np.int64)
    else:
        raise DatasetError(f"{path}: converting {action_space} actions is not supported (Box or Discrete)")
    obs_shape = observation_space.shape
    episodes = []
    for env_i in range(obs.shape[1]):
        o, no = obs[order, env_i].reshape(n_rows, *obs_shape), next_obs[order, env_i].reshape(n_rows, *obs_shape)
        a, r, d = actions[order, env_i], rewards[order, env_i], dones[order, env_i].astype(bool)
        reset = np.zeros(n_rows, bool)
        reset[:-1] = ~np.all(o[1:] == no[:-1], axis=tuple(range(1, o.ndim)))
        ends = np.flatnonzero(d | reset)
        if not len(ends) or ends[-1] != n_rows - 1:
            ends = np.r_[ends, n_rows - 1]
        start = 0
        for end in ends:
            sl = slice(start, end + 1)
            term = np.zeros(end + 1 - start, bool)
            term[-1] = d[end]
            observations = np.concatenate([o[sl], no[end:end + 1]]).astype(observation_space.dtype)
            truncations = ~term & (np.arange(end + 1 - start) == end - start)
            episodes.append(Episode(observations=observations, actions=a[sl], rewards=r[sl].astype(np.float64),
                                    terminations=term, truncations=truncations))
            start = end + 1
    return episodes
