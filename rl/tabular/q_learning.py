"""Tabular Q-learning with a linearly decaying epsilon-greedy behaviour policy.

    Q(s, a) += lr * (r + gamma * (1 - terminated) * max_a' Q(s', a') - Q(s, a))

Truncation (a time limit) is not termination: the target still bootstraps from s'. A NaN or
infinite reward raises ValueError naming the step.
"""

from __future__ import annotations

import numpy as np

from rl.core.validation import check_hyperparameters, check_reward, constructor_args
from rl.tabular.common import check_obs, env_id, load_tables, make_env, save_tables

__all__ = ["QLearning"]


class QLearning:
    """Q-learning on Discrete observation and action spaces (FrozenLake, CliffWalking, Taxi).

    q_table: (n_states, n_actions) float64. Epsilon goes linearly from exploration_initial_eps to
    exploration_final_eps over the first exploration_fraction of `learn`'s timesteps.
    """

    def __init__(self, env, learning_rate: float = 0.1, gamma: float = 0.99,
                 exploration_initial_eps: float = 1.0, exploration_final_eps: float = 0.05,
                 exploration_fraction: float = 0.5, seed: int | None = None, verbose: int = 0):
        check_hyperparameters("QLearning", constructor_args(locals()))
        self.env = make_env(env)
        self.observation_space = self.env.observation_space
        self.action_space = self.env.action_space
        self.n_states = int(self.observation_space.n)
        self.n_actions = int(self.action_space.n)
        self.learning_rate = float(learning_rate)
        self.gamma = float(gamma)
        self.exploration_initial_eps = float(exploration_initial_eps)
        self.exploration_final_eps = float(exploration_final_eps)
        self.exploration_fraction = float(exploration_fraction)
        self.exploration_rate = self.exploration_initial_eps
        self.seed = seed
        self.verbose = verbose
        self.rng = np.random.default_rng(seed)
        self.q_table = np.zeros((self.n_states, self.n_actions))
        self.num_timesteps = 0
        self.episode_rewards: list[float] = []
        self._first_reset = True

    def _greedy(self, state: int) -> int:
        """argmax with random tie-breaking (an all-zero row must not always pick action 0)."""
        row = self.q_table[state]
        ties = np.flatnonzero(row == row.max())
        return int(ties[0] if ties.size == 1 else ties[self.rng.integers(ties.size)])

    def _epsilon(self, step: int, total: int) -> float:
        progress = step / max(self.exploration_fraction * total, 1.0)
        if progress >= 1.0:
            return self.exploration_final_eps
        return self.exploration_initial_eps + progress * (self.exploration_final_eps - self.exploration_initial_eps)

    def learn(self, total_timesteps: int, reset_num_timesteps: bool = True, log_interval: int = 100):
        """Run `total_timesteps` environment steps of Q-learning; returns self."""
        total = int(total_timesteps)
        if total <= 0:
            raise ValueError(f"total_timesteps must be positive, got {total_timesteps}")
        if reset_num_timesteps:
            self.num_timesteps = 0
        seed = self.seed if self._first_reset else None
        self._first_reset = False
        state, _ = self.env.reset(seed=seed)
        episode_reward = 0.0
        for step in range(total):
            self.exploration_rate = self._epsilon(step, total)
            if self.rng.random() < self.exploration_rate:
                action = int(self.rng.integers(self.n_actions))
            else:
                action = self._greedy(state)
            next_state, reward, terminated, truncated, _ = self.env.step(action)
            check_reward(reward, self.num_timesteps + 1)
            target = reward + (0.0 if terminated else self.gamma * self.q_table[next_state].max())
            self.q_table[state, action] += self.learning_rate * (target - self.q_table[state, action])
            episode_reward += float(reward)
            state = next_state
            self.num_timesteps += 1
            if terminated or truncated:
                self.episode_rewards.append(episode_reward)
                if self.verbose >= 1 and len(self.episode_rewards) % log_interval == 0:
                    recent = np.mean(self.episode_rewards[-log_interval:])
                    print(f"steps={self.num_timesteps} episodes={len(self.episode_rewards)} "
                          f"mean_return={recent:.2f} eps={self.exploration_rate:.3f}")
                state, _ = self.env.reset()
                episode_reward = 0.0
        return self

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = False):
        """Greedy action(s) (deterministic) or epsilon-greedy with exploration_final_eps.

        observation: a state index or a batch of them (n,) -> (actions of the same shape, None).
        """
        obs = check_obs(observation, self.n_states)
        flat = obs.reshape(-1)
        actions = self.q_table[flat].argmax(axis=1)
        if not deterministic:
            explore = self.rng.random(flat.shape[0]) < self.exploration_final_eps
            actions = np.where(explore, self.rng.integers(self.n_actions, size=flat.shape[0]), actions)
        actions = actions.reshape(obs.shape)
        return (int(actions) if actions.ndim == 0 else actions), state

    def save(self, path) -> str:
        """Write q_table and settings to `path` (.npz appended if missing); returns the file name."""
        metadata = {
            "env_id": env_id(self.env), "n_states": self.n_states, "n_actions": self.n_actions,
            "num_timesteps": self.num_timesteps,
            "hyperparameters": {
                "learning_rate": self.learning_rate, "gamma": self.gamma,
                "exploration_initial_eps": self.exploration_initial_eps,
                "exploration_final_eps": self.exploration_final_eps,
                "exploration_fraction": self.exploration_fraction, "seed": self.seed,
            },
        }
        return save_tables(path, "QLearning", {"q_table": self.q_table}, metadata)

    @classmethod
    def load(cls, path, env=None) -> QLearning:
        """Rebuild an agent from `save`; env defaults to the saved env id."""
        tables, meta = load_tables(path, "QLearning")
        if env is None:
            if meta.get("env_id") is None:
                raise ValueError(f"{path} has no env id; pass env=")
            env = meta["env_id"]
        model = cls(env, **meta["hyperparameters"])
        q_table = np.asarray(tables["q_table"], dtype=np.float64)
        if q_table.shape != model.q_table.shape:
            raise ValueError(f"saved q_table has shape {q_table.shape}, but the env needs {model.q_table.shape}")
        model.q_table = q_table
        model.num_timesteps = int(meta["num_timesteps"])
        return model
