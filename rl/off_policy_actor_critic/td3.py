"""Twin Delayed DDPG (Fujimoto et al. 2018) with SB3's hyperparameters and update order.

One gradient step on a replay batch (s, a, r, s', d), B rows:
    a'           clip(mu'(s') + clip(N(0, target_policy_noise), +-target_noise_clip), -1, 1)  (smoothing)
    y            r + gamma (1 - d) min_i Q'_i(s', a')
    critic loss  sum_i mean_B (Q_i(s, a) - y)^2                (all critics in one batched pass)
every `policy_delay` updates:
    actor loss   -mean_B Q_1(s, mu(s))                         (first critic, its weights as constants)
    targets      polyak(tau) for the critics and the actor
A non-finite loss raises ValueError before its optimizer step.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import corenn
from corenn.nn import functional as F

from ..core.off_policy_algorithm import OffPolicyAlgorithm
from ..core.polyak import polyak_update
from ..core.validation import check_finite_scalar, check_hyperparameters, constructor_args
from .policies import TD3CnnPolicy, TD3MultiInputPolicy, TD3Policy

__all__ = ["TD3"]


class TD3(OffPolicyAlgorithm):
    """TD3 for Box action spaces; exploration via `action_noise` (e.g. NormalActionNoise)."""

    algo_name = "TD3"
    policy_aliases = {"MlpPolicy": TD3Policy, "CnnPolicy": TD3CnnPolicy, "MultiInputPolicy": TD3MultiInputPolicy}
    supported_action_spaces = (gym.spaces.Box,)
    _hparam_names = OffPolicyAlgorithm._hparam_names + ("policy_delay", "target_policy_noise", "target_noise_clip")

    def __init__(self, policy, env, learning_rate=1e-3, buffer_size: int = 1_000_000, learning_starts: int = 100,
                 batch_size: int = 256, tau: float = 0.005, gamma: float = 0.99, train_freq=1,
                 gradient_steps: int = 1, action_noise=None, replay_buffer_class=None,
                 replay_buffer_kwargs: dict | None = None, optimize_memory_usage: bool = False, n_steps: int = 1,
                 policy_delay: int = 2, target_policy_noise: float = 0.2, target_noise_clip: float = 0.5,
                 stats_window_size: int = 100, tensorboard_log: str | None = None, policy_kwargs: dict | None = None,
                 verbose: int = 0, seed: int | None = None, device: str = "auto", normalize: bool | dict = False,
                 n_envs: int = 1, blas_num_threads: int | str | None = "auto", _init_setup_model: bool = True):
        check_hyperparameters("TD3", constructor_args(locals()))
        super().__init__(policy, env, learning_rate=learning_rate, buffer_size=buffer_size,
                         learning_starts=learning_starts, batch_size=batch_size, tau=tau, gamma=gamma,
                         train_freq=train_freq, gradient_steps=gradient_steps, action_noise=action_noise,
                         replay_buffer_class=replay_buffer_class, replay_buffer_kwargs=replay_buffer_kwargs,
                         optimize_memory_usage=optimize_memory_usage, n_steps=n_steps, policy_kwargs=policy_kwargs,
                         stats_window_size=stats_window_size, tensorboard_log=tensorboard_log, verbose=verbose,
                         device=device, seed=seed, normalize=normalize, n_envs=n_envs,
                         blas_num_threads=blas_num_threads)
        self.policy_delay = int(policy_delay)
        self.target_policy_noise, self.target_noise_clip = float(target_policy_noise), float(target_noise_clip)
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        super()._setup_model()
        p = self.policy
        self._critic_pairs = p.target_pairs("critic")
        self._actor_pairs = p.target_pairs("actor")

    def _policy_optimizers(self) -> dict:
        return {"actor.optimizer": self.policy.actor.optimizer, "critic.optimizer": self.policy.critic.optimizer}

    def train(self, gradient_steps: int, batch_size: int = 256) -> None:
        policy, rng = self.policy, self.rng
        actor, critic = policy.actor, policy.critic
        self._update_learning_rate([actor.optimizer, critic.optimizer])
        actor_losses, critic_losses = [], []

        for _ in range(gradient_steps):
            self._n_updates += 1
            obs, actions, next_obs, rewards, dones = self._sample_batch(batch_size)

            with corenn.no_grad():
                next_actions = policy.actor_target(next_obs).data
                if self.target_policy_noise > 0.0:
                    noise = rng.normal(0.0, self.target_policy_noise, next_actions.shape).astype(np.float32)
                    np.clip(noise, -self.target_noise_clip, self.target_noise_clip, out=noise)
                    next_actions = np.clip(next_actions + noise, -1.0, 1.0)
                next_q = policy.critic_target(next_obs, next_actions).data.min(axis=0)  # (B,)
                target_q = rewards + self.gamma * (1.0 - dones) * next_q

            q = critic(obs, actions)  # (n_critics, B)
            # sum_i mse(q_i, y) as one node: the mean over (critics, batch) times the number of critics
            critic_loss = critic.n_critics * F.mse_loss(q, target_q)
            step = self.num_timesteps
            critic_losses.append(check_finite_scalar("critic loss", float(critic_loss.data), self._n_updates, step))
            critic.optimizer.zero_grad()
            critic_loss.backward()
            critic.optimizer.step()

            if self._n_updates % self.policy_delay == 0:
                actor_loss = -critic.q1_forward(obs, actor(obs)).mean()
                actor_losses.append(check_finite_scalar("actor loss", float(actor_loss.data), self._n_updates, step))
                actor.optimizer.zero_grad()
                actor_loss.backward()
                actor.optimizer.step()
                polyak_update(*self._critic_pairs, self.tau)
                polyak_update(*self._actor_pairs, self.tau)

        self.logger.record("train/n_updates", self._n_updates)
        if actor_losses:
            self.logger.record("train/actor_loss", float(np.mean(actor_losses)))
        self.logger.record("train/critic_loss", float(np.mean(critic_losses)))

    def learn(self, total_timesteps: int, callback=None, log_interval: int = 4, tb_log_name: str = "TD3",
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps,
                             progress_bar)
