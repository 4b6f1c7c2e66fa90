"""Soft Actor-Critic (Haarnoja et al. 2018) with SB3's hyperparameters and update order.

One gradient step on a replay batch (s, a, r, s', d), B rows:
    a~, log pi(a~|s)      actor sample on s (graph kept for the actor loss)
    alpha                 ent_coef="auto": log_alpha -= lr * Adam(-mean(log pi + target_entropy))
    y                     r + gamma (1 - d) [min_i Q'_i(s', a') - alpha log pi(a'|s')],  a' ~ pi(.|s')
    critic loss           0.5 * sum_i mean_B (Q_i(s, a) - y)^2       (all critics in one batched pass)
    actor loss            mean_B (alpha log pi(a~|s) - min_i Q_i(s, a~))  (critics frozen: no weight grads)
    target critics        polyak(tau) every `target_update_interval` updates
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import corenn
from corenn import nn, optim
from corenn.nn import functional as F

from ..core.ensemble import ensemble_min
from ..core.off_policy_algorithm import OffPolicyAlgorithm
from ..core.polyak import polyak_update
from ..core.sac_policies import SACPolicy

__all__ = ["SAC"]


class SAC(OffPolicyAlgorithm):
    """SAC for Box action spaces. ent_coef: "auto", "auto_<init>" (learned) or a float (fixed);
    target_entropy: "auto" (= -dim(A)) or a float."""

    algo_name = "SAC"
    policy_aliases = {"MlpPolicy": SACPolicy, "MultiInputPolicy": SACPolicy}
    supported_action_spaces = (gym.spaces.Box,)
    _hparam_names = OffPolicyAlgorithm._hparam_names + ("ent_coef", "target_update_interval", "target_entropy")

    def __init__(self, policy, env, learning_rate=3e-4, buffer_size: int = 1_000_000, learning_starts: int = 100,
                 batch_size: int = 256, tau: float = 0.005, gamma: float = 0.99, train_freq=1,
                 gradient_steps: int = 1, action_noise=None, replay_buffer_class=None,
                 replay_buffer_kwargs: dict | None = None, optimize_memory_usage: bool = False,
                 ent_coef="auto", target_update_interval: int = 1, target_entropy="auto",
                 use_sde: bool = False, _init_setup_model: bool = True, **kwargs):
        if use_sde:
            raise ValueError("SAC here has no gSDE exploration (use_sde=True); use the default Gaussian noise")
        kwargs.pop("sde_sample_freq", None)
        kwargs.pop("use_sde_at_warmup", None)
        super().__init__(policy, env, learning_rate, buffer_size, learning_starts, batch_size, tau, gamma,
                         train_freq, gradient_steps, action_noise, replay_buffer_class, replay_buffer_kwargs,
                         optimize_memory_usage, **kwargs)
        self.ent_coef, self.target_entropy = ent_coef, target_entropy
        self.target_update_interval = int(target_update_interval)
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        super()._setup_model()
        if self.target_entropy == "auto":
            self._target_entropy = -float(np.prod(self.action_space.shape))
        else:
            self._target_entropy = float(self.target_entropy)
        self.log_ent_coef = self.ent_coef_optimizer = None
        if isinstance(self.ent_coef, str) and self.ent_coef.startswith("auto"):
            init = float(self.ent_coef.split("_")[1]) if "_" in self.ent_coef else 1.0
            if init <= 0.0:
                raise ValueError(f"the initial entropy coefficient must be > 0, got {self.ent_coef!r}")
            self.log_ent_coef = nn.Parameter(np.array([np.log(init)], np.float32))
            self.ent_coef_optimizer = optim.Adam([self.log_ent_coef], lr=self.lr_schedule(1.0))
        else:
            self._fixed_ent_coef = float(self.ent_coef)
        self._critic_params = list(self.policy.critic.parameters())
        self._critic_target_params = list(self.policy.critic_target.parameters())

    def _policy_optimizers(self) -> dict:
        opts = {"actor.optimizer": self.policy.actor.optimizer, "critic.optimizer": self.policy.critic.optimizer}
        if self.ent_coef_optimizer is not None:
            opts["ent_coef_optimizer"] = self.ent_coef_optimizer
        return opts

    def _extra_state(self) -> dict:
        state = super()._extra_state()
        if self.log_ent_coef is not None:
            state["log_ent_coef"] = self.log_ent_coef.data.copy()
        return state

    def _load_extra_state(self, data: dict) -> None:
        super()._load_extra_state(data)
        if self.log_ent_coef is not None and "log_ent_coef" in data:
            self.log_ent_coef.data[...] = np.asarray(data["log_ent_coef"], np.float32)

    def train(self, gradient_steps: int, batch_size: int = 256) -> None:
        policy, rng = self.policy, self.rng
        actor, critic, critic_target = policy.actor, policy.critic, policy.critic_target
        optimizers = [actor.optimizer, critic.optimizer]
        if self.ent_coef_optimizer is not None:
            optimizers.append(self.ent_coef_optimizer)
        self._update_learning_rate(optimizers)
        ent_coefs, ent_coef_losses, actor_losses, critic_losses = [], [], [], []

        for _ in range(gradient_steps):
            obs, actions, next_obs, rewards, dones = self._sample_batch(batch_size)
            actions_pi, log_prob = actor(obs, rng=rng)  # (B, A), (B,)

            if self.log_ent_coef is not None:  # d/dlog_alpha of -log_alpha * (log pi + H) is -(log pi + H)
                log_alpha = float(self.log_ent_coef.data[0])
                ent_coef = float(np.exp(log_alpha))
                gap = float(log_prob.data.mean()) + self._target_entropy
                self.log_ent_coef.grad = np.array([-gap], np.float32)
                self.ent_coef_optimizer.step()
                ent_coef_losses.append(-log_alpha * gap)
            else:
                ent_coef = self._fixed_ent_coef
            ent_coefs.append(ent_coef)

            with corenn.no_grad():
                next_actions, next_log_prob = actor(next_obs, rng=rng)
                next_q = critic_target(next_obs, next_actions).data.min(axis=0)  # (B,)
                next_q -= ent_coef * next_log_prob.data
                target_q = rewards + self.gamma * (1.0 - dones) * next_q

            q = critic(obs, actions)  # (n_critics, B)
            critic_loss = F.mse_loss(q, target_q[None, :]) * (0.5 * critic.n_critics)
            critic.optimizer.zero_grad()
            critic_loss.backward()
            critic.optimizer.step()

            critic.requires_grad_(False)  # only dQ/da flows back to the actor
            try:
                min_q_pi = ensemble_min(critic(obs, actions_pi))
                actor_loss = (log_prob * ent_coef - min_q_pi).mean()
                actor.optimizer.zero_grad()
                actor_loss.backward()
            finally:
                critic.requires_grad_(True)
            actor.optimizer.step()

            self._n_updates += 1
            if self._n_updates % self.target_update_interval == 0:
                polyak_update(self._critic_params, self._critic_target_params, self.tau)
            actor_losses.append(float(actor_loss.data))
            critic_losses.append(float(critic_loss.data))

        self.logger.record("train/n_updates", self._n_updates)
        self.logger.record("train/ent_coef", float(np.mean(ent_coefs)))
        self.logger.record("train/actor_loss", float(np.mean(actor_losses)))
        self.logger.record("train/critic_loss", float(np.mean(critic_losses)))
        if ent_coef_losses:
            self.logger.record("train/ent_coef_loss", float(np.mean(ent_coef_losses)))

    def learn(self, total_timesteps: int, callback=None, log_interval: int = 4, tb_log_name: str = "SAC",
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps,
                             progress_bar)
