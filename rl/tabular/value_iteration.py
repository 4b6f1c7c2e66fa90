"""Value iteration on a known transition model: Gymnasium toy-text envs expose it as env.unwrapped.P,
P[s][a] = [(probability, next_state, reward, terminated), ...].

    Q(s, a) = sum_outcomes p * (r + gamma * (1 - terminated) * V(s'))
    V(s)    = max_a Q(s, a), repeated until max |V_new - V| < theta.
A NaN or infinite reward in the model raises ValueError naming the state and action.
"""

from __future__ import annotations

import numpy as np

from rl.core.validation import check_hyperparameters
from rl.tabular.common import check_obs, env_id, load_tables, make_env, save_tables

__all__ = ["ValueIteration"]


class ValueIteration:
    """Optimal V, Q and greedy policy of a finite MDP.

    After learn(): V (n_states,), q_values (n_states, n_actions), policy (n_states,) int64.
    """

    def __init__(self, env, gamma: float = 0.99, theta: float = 1e-8, max_iterations: int = 100_000):
        check_hyperparameters("ValueIteration", dict(gamma=gamma, theta=theta, max_iterations=max_iterations))
        self.env = make_env(env)
        self.observation_space = self.env.observation_space
        self.action_space = self.env.action_space
        self.n_states = int(self.observation_space.n)
        self.n_actions = int(self.action_space.n)
        self.gamma, self.theta, self.max_iterations = float(gamma), float(theta), int(max_iterations)
        self.V = np.zeros(self.n_states)
        self.q_values = np.zeros((self.n_states, self.n_actions))
        self.policy = np.zeros(self.n_states, dtype=np.int64)
        self.iterations = 0

    def _model(self) -> tuple[np.ndarray, np.ndarray]:
        """Dense model: T (S, A, S) = P(s' | s, a) for non-terminating outcomes, R (S, A) = E[r]."""
        P = getattr(self.env.unwrapped, "P", None)
        if P is None:
            raise TypeError("ValueIteration needs the transition model env.unwrapped.P "
                            "(toy-text envs such as FrozenLake, CliffWalking, Taxi); use QLearning otherwise")
        S, A = self.n_states, self.n_actions
        T = np.zeros((S, A, S))
        R = np.zeros((S, A))
        for s in range(S):
            for a in range(A):
                for prob, next_state, reward, terminated in P[s][a]:
                    R[s, a] += prob * reward
                    if not terminated:
                        T[s, a, next_state] += prob
        if not (np.isfinite(R).all() and np.isfinite(T).all()):
            s, a = np.argwhere(~(np.isfinite(R) & np.isfinite(T).all(axis=2)))[0]
            raise ValueError(f"the transition model env.unwrapped.P has a NaN or infinite reward or probability "
                             f"for state {s}, action {a}")
        return T, R

    def learn(self, total_timesteps=None):
        """Iterate the Bellman optimality operator to convergence; returns self.

        total_timesteps is accepted (and ignored) so the CLI and SB3-style code can call learn(n).
        """
        T, R = self._model()
        V = np.zeros(self.n_states)
        for iteration in range(1, self.max_iterations + 1):
            V_new = (R + self.gamma * (T @ V)).max(axis=1)
            delta = np.abs(V_new - V).max()
            V = V_new
            if delta < self.theta:
                self.iterations = iteration
                break
        else:
            raise RuntimeError(f"value iteration did not converge in {self.max_iterations} iterations "
                               f"(last change {delta:.3g}); with gamma=1 the MDP may have no proper policy")
        self.V = V
        self.q_values = R + self.gamma * (T @ V)
        self.policy = self.q_values.argmax(axis=1)
        return self

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        """Optimal action(s) for a state index or a batch of them -> (actions, None)."""
        obs = check_obs(observation, self.n_states)
        actions = self.policy[obs]
        return (int(actions) if actions.ndim == 0 else actions), state

    def save(self, path) -> str:
        metadata = {"env_id": env_id(self.env), "gamma": self.gamma, "theta": self.theta,
                    "iterations": self.iterations}
        return save_tables(path, "ValueIteration",
                           {"V": self.V, "q_values": self.q_values, "policy": self.policy}, metadata)

    @classmethod
    def load(cls, path, env=None) -> ValueIteration:
        tables, meta = load_tables(path, "ValueIteration")
        env = meta.get("env_id") if env is None else env
        if env is None:
            raise ValueError(f"{path} has no env id; pass env=")
        model = cls(env, gamma=meta["gamma"], theta=meta["theta"])
        if np.asarray(tables["V"]).shape != model.V.shape:
            raise ValueError(f"saved values cover {np.asarray(tables['V']).shape[0]} states; "
                             f"the env has {model.n_states}")
        model.V = np.asarray(tables["V"])
        model.q_values = np.asarray(tables["q_values"])
        model.policy = np.asarray(tables["policy"], dtype=np.int64)
        model.iterations = int(meta["iterations"])
        return model
