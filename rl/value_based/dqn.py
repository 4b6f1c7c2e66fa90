"""Deep Q-Network (Mnih et al. 2015) with SB3's hyperparameters.

Exploration: epsilon-greedy, epsilon linear from `exploration_initial_eps` to `exploration_final_eps`
over the first `exploration_fraction` of training. One gradient step on a replay batch:
    y     = r + gamma (1 - d) max_a' Q_target(s', a')        (`_target_q`; Double DQN overrides it)
    loss  = Huber(Q(s, a), y), gradients clipped to a global norm of `max_grad_norm`
The target network is copied (tau = 1) or polyak-averaged every `target_update_interval` env steps.
A non-finite loss or gradient norm raises ValueError before the weights are touched.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import corenn
from corenn.nn import functional as F
from corenn.nn.utils import clip_grad_norm_

from ..core.off_policy_algorithm import OffPolicyAlgorithm
from ..core.polyak import polyak_update
from ..core.schedules import LinearSchedule
from ..core.validation import check_finite_scalar, check_hyperparameters, constructor_args
from .policies import CnnPolicy, DQNPolicy, MultiInputPolicy

__all__ = ["DQN"]


class DQN(OffPolicyAlgorithm):
    """DQN for Discrete action spaces. action_noise is accepted only as None (checkpoints list it)."""

    algo_name = "DQN"
    policy_aliases = {"MlpPolicy": DQNPolicy, "CnnPolicy": CnnPolicy, "MultiInputPolicy": MultiInputPolicy}
    supported_action_spaces = (gym.spaces.Discrete,)
    _hparam_names = OffPolicyAlgorithm._hparam_names + (
        "target_update_interval", "exploration_fraction", "exploration_initial_eps", "exploration_final_eps",
        "max_grad_norm")

    def __init__(self, policy, env, learning_rate=1e-4, buffer_size: int = 1_000_000, learning_starts: int = 100,
                 batch_size: int = 32, tau: float = 1.0, gamma: float = 0.99, train_freq=4, gradient_steps: int = 1,
                 replay_buffer_class=None, replay_buffer_kwargs: dict | None = None,
                 optimize_memory_usage: bool = False, n_steps: int = 1, target_update_interval: int = 10000,
                 exploration_fraction: float = 0.1, exploration_initial_eps: float = 1.0,
                 exploration_final_eps: float = 0.05, max_grad_norm: float = 10.0, action_noise=None,
                 stats_window_size: int = 100, tensorboard_log: str | None = None, policy_kwargs: dict | None = None,
                 verbose: int = 0, seed: int | None = None, device: str = "auto", normalize: bool | dict = False,
                 n_envs: int = 1, blas_num_threads: int | str | None = "auto", _init_setup_model: bool = True):
        check_hyperparameters("DQN", constructor_args(locals()))
        super().__init__(policy, env, learning_rate=learning_rate, buffer_size=buffer_size,
                         learning_starts=learning_starts, batch_size=batch_size, tau=tau, gamma=gamma,
                         train_freq=train_freq, gradient_steps=gradient_steps, action_noise=None,
                         replay_buffer_class=replay_buffer_class, replay_buffer_kwargs=replay_buffer_kwargs,
                         optimize_memory_usage=optimize_memory_usage, n_steps=n_steps, policy_kwargs=policy_kwargs,
                         stats_window_size=stats_window_size, tensorboard_log=tensorboard_log, verbose=verbose,
                         device=device, seed=seed, normalize=normalize, n_envs=n_envs,
                         blas_num_threads=blas_num_threads)
        self.target_update_interval = int(target_update_interval)
        self.exploration_fraction = float(exploration_fraction)
        self.exploration_initial_eps = float(exploration_initial_eps)
        self.exploration_final_eps = float(exploration_final_eps)
        self.max_grad_norm = float(max_grad_norm)
        self.exploration_rate = self.exploration_initial_eps
        self._n_calls = 0
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        super()._setup_model()
        self.exploration_schedule = LinearSchedule(self.exploration_initial_eps, self.exploration_final_eps,
                                                   max(self.exploration_fraction, 1e-8))
        self._target_every = max(self.target_update_interval // self.n_envs, 1)
        self._q_params = list(self.policy.q_net.parameters())
        self._q_target_params = list(self.policy.q_net_target.parameters())

    # ------------------------------------------------------------------ acting
    def _epsilon_greedy(self, greedy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        explore = rng.random(greedy.shape[0]) < self.exploration_rate
        if explore.any():
            greedy = greedy.copy()
            greedy[explore] = rng.integers(0, int(self.action_space.n), int(explore.sum()))
        return greedy

    def _policy_action(self, features: np.ndarray) -> np.ndarray:
        return self._epsilon_greedy(self.policy.act(features), self.rng)

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = False):
        """Greedy actions; with deterministic=False each one is random with probability exploration_rate."""
        actions, state = super().predict(observation, state, episode_start, deterministic)
        if deterministic:
            return actions, state
        batch = np.atleast_1d(actions)
        explored = self._epsilon_greedy(batch, self._predict_rng)
        return (explored if np.ndim(actions) else explored[0]), state

    def _on_step(self) -> None:
        self._n_calls += 1
        if self._n_calls % self._target_every == 0:
            polyak_update(self._q_params, self._q_target_params, self.tau)
        self.exploration_rate = self.exploration_schedule(self._current_progress_remaining)
        self.logger.record("rollout/exploration_rate", self.exploration_rate)

    # ------------------------------------------------------------------ learning
    def _target_q(self, next_obs: np.ndarray) -> np.ndarray:
        """max_a' Q_target(s', a') for next features (B, F) -> (B,)."""
        with corenn.no_grad():
            return self.policy.q_net_target(next_obs).data.max(axis=1)

    def train(self, gradient_steps: int, batch_size: int = 32) -> None:
        q_net, optimizer = self.policy.q_net, self.policy.optimizer
        self._update_learning_rate(optimizer)
        losses = []
        for i in range(gradient_steps):
            obs, actions, next_obs, rewards, dones = self._sample_batch(batch_size)
            target_q = rewards + self.gamma * (1.0 - dones) * self._target_q(next_obs)
            q = q_net(obs)  # (B, n_actions)
            chosen = np.zeros(q.shape, np.float32)
            chosen[np.arange(q.shape[0]), actions.reshape(-1).astype(np.int64)] = 1.0
            loss = F.smooth_l1_loss((q * chosen).sum(axis=1), target_q)
            update, step = self._n_updates + i + 1, self.num_timesteps
            losses.append(check_finite_scalar("loss", float(loss.data), update, step))
            optimizer.zero_grad()
            loss.backward()
            check_finite_scalar("gradient norm", clip_grad_norm_(self._q_params, self.max_grad_norm), update, step)
            optimizer.step()
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates)
        self.logger.record("train/loss", float(np.mean(losses)))

    def learn(self, total_timesteps: int, callback=None, log_interval: int = 4, tb_log_name: str = "DQN",
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps,
                             progress_bar)
