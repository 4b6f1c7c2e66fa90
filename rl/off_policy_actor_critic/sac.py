"""Soft Actor-Critic (Haarnoja et al. 2018) with SB3's hyperparameters and update order.

One gradient step on a replay batch (s, a, r, s', d), B rows:
    a~, log pi(a~|s)      actor sample on s (graph kept for the actor loss)
    alpha                 the current entropy coefficient, used for this step's targets and actor loss;
                          when learned, then one Adam step on
                          ent_coef loss = -mean_B(log_alpha * (log pi(a~|s) + target_entropy))  (log pi constant)
    y                     r + gamma (1 - d) [min_i Q'_i(s', a') - alpha log pi(a'|s')],  a' ~ pi(.|s')
    critic loss           0.5 * sum_i mean_B (Q_i(s, a) - y)^2       (all critics in one batched pass)
    actor loss            mean_B (alpha log pi(a~|s) - min_i Q_i(s, a~))  (critics frozen: no weight grads)
    target critics        polyak(tau) every `target_update_interval` updates
A non-finite loss raises ValueError before its optimizer step.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import corenn
from corenn import nn, optim
from corenn.nn import functional as F
from corenn.nn.functional import take_min

from ..core.off_policy_algorithm import OffPolicyAlgorithm
from ..core.polyak import polyak_update
from ..core.validation import check_finite_scalar, check_hyperparameters, constructor_args
from .policies import SACCnnPolicy, SACMultiInputPolicy, SACPolicy

__all__ = ["SAC", "EntropyCoefficient"]


class EntropyCoefficient:
    """SAC's alpha: a fixed number, or learned as log_ent_coef (shape (1,)) with its own Adam optimizer.

    The learned case minimises `loss(log_prob)`, which raises alpha while the policy's entropy
    -log pi is below `target_entropy` and lowers it above.
    """

    def __init__(self, initial_value: float, learned: bool, target_entropy: float, learning_rate: float):
        if initial_value < 0.0 or (learned and initial_value == 0.0):
            raise ValueError(f"the entropy coefficient must be {'> 0' if learned else '>= 0'}, got {initial_value}")
        self.learned, self.target_entropy = bool(learned), float(target_entropy)
        self._fixed = float(initial_value)
        self.log_ent_coef = self.optimizer = None
        if self.learned:
            self.log_ent_coef = nn.Parameter(np.array([np.log(initial_value)], np.float32))
            self.optimizer = optim.Adam([self.log_ent_coef], lr=learning_rate)

    @classmethod
    def from_spec(cls, ent_coef, target_entropy: float, learning_rate: float) -> EntropyCoefficient:
        """ent_coef: "auto" (learned from 1), "auto_<init>" such as "auto_0.1" (learned from init), or a
        number (fixed)."""
        if isinstance(ent_coef, str):
            if not ent_coef.startswith("auto"):
                raise ValueError(f"ent_coef must be 'auto', 'auto_<initial value>' or a number, got {ent_coef!r}")
            init = float(ent_coef.split("_")[1]) if "_" in ent_coef else 1.0
            return cls(init, True, target_entropy, learning_rate)
        return cls(float(ent_coef), False, target_entropy, learning_rate)

    @property
    def value(self) -> float:
        """alpha now (exp(log_ent_coef) when learned)."""
        return float(np.exp(float(self.log_ent_coef.data[0]))) if self.learned else self._fixed

    def loss(self, log_prob: corenn.Tensor) -> corenn.Tensor:
        """-mean_B(log_alpha * (log_prob + target_entropy)); log_prob (B,) of fresh actions, detached."""
        return -(self.log_ent_coef * (log_prob + self.target_entropy)).mean()


class SAC(OffPolicyAlgorithm):
    """SAC for Box action spaces. ent_coef: "auto", "auto_<init>" (learned) or a float (fixed);
    target_entropy: "auto" (= -dim(A)) or a float. gSDE (use_sde, ...) is not implemented."""

    algo_name = "SAC"
    policy_aliases = {"MlpPolicy": SACPolicy, "CnnPolicy": SACCnnPolicy, "MultiInputPolicy": SACMultiInputPolicy}
    supported_action_spaces = (gym.spaces.Box,)
    _hparam_names = OffPolicyAlgorithm._hparam_names + ("ent_coef", "target_update_interval", "target_entropy")

    def __init__(self, policy, env, learning_rate=3e-4, buffer_size: int = 1_000_000, learning_starts: int = 100,
                 batch_size: int = 256, tau: float = 0.005, gamma: float = 0.99, train_freq=1,
                 gradient_steps: int = 1, action_noise=None, replay_buffer_class=None,
                 replay_buffer_kwargs: dict | None = None, optimize_memory_usage: bool = False, n_steps: int = 1,
                 ent_coef="auto", target_update_interval: int = 1, target_entropy="auto", use_sde: bool = False,
                 sde_sample_freq: int = -1, use_sde_at_warmup: bool = False, stats_window_size: int = 100,
                 tensorboard_log: str | None = None, policy_kwargs: dict | None = None, verbose: int = 0,
                 seed: int | None = None, device: str = "auto", normalize: bool | dict = False, n_envs: int = 1,
                 blas_num_threads: int | str | None = "auto", _init_setup_model: bool = True):
        check_hyperparameters("SAC", constructor_args(locals()))
        super().__init__(policy, env, learning_rate=learning_rate, buffer_size=buffer_size,
                         learning_starts=learning_starts, batch_size=batch_size, tau=tau, gamma=gamma,
                         train_freq=train_freq, gradient_steps=gradient_steps, action_noise=action_noise,
                         replay_buffer_class=replay_buffer_class, replay_buffer_kwargs=replay_buffer_kwargs,
                         optimize_memory_usage=optimize_memory_usage, n_steps=n_steps, policy_kwargs=policy_kwargs,
                         stats_window_size=stats_window_size, tensorboard_log=tensorboard_log, verbose=verbose,
                         device=device, seed=seed, use_sde=use_sde, sde_sample_freq=sde_sample_freq,
                         use_sde_at_warmup=use_sde_at_warmup, normalize=normalize, n_envs=n_envs,
                         blas_num_threads=blas_num_threads)
        self.ent_coef, self.target_entropy = ent_coef, target_entropy
        self.target_update_interval = int(target_update_interval)
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        super()._setup_model()
        if self.target_entropy == "auto":
            target_entropy = -float(np.prod(self.action_space.shape))
        else:
            target_entropy = float(self.target_entropy)
        self.entropy_coefficient = EntropyCoefficient.from_spec(self.ent_coef, target_entropy, self.lr_schedule(1.0))
        self._critic_params, self._critic_target_params = self.policy.target_pairs("critic")

    @property
    def log_ent_coef(self) -> nn.Parameter | None:
        """log alpha (1,) when ent_coef is learned, else None (SB3's attribute)."""
        return self.entropy_coefficient.log_ent_coef

    @property
    def ent_coef_optimizer(self) -> optim.Adam | None:
        return self.entropy_coefficient.optimizer

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
        policy, rng, alpha = self.policy, self.rng, self.entropy_coefficient
        actor, critic, critic_target = policy.actor, policy.critic, policy.critic_target
        self._update_learning_rate(list(self._policy_optimizers().values()))
        ent_coefs, ent_coef_losses, actor_losses, critic_losses = [], [], [], []

        for _ in range(gradient_steps):
            obs, actions, next_obs, rewards, dones = self._sample_batch(batch_size)
            actions_pi, log_prob = actor(obs, rng=rng)  # (B, A), (B,)
            update, step = self._n_updates + 1, self.num_timesteps

            ent_coef = alpha.value
            if alpha.learned:
                ent_coef_loss = alpha.loss(log_prob.detach())
                ent_coef_losses.append(check_finite_scalar("entropy coefficient loss", float(ent_coef_loss.data),
                                                           update, step))
                alpha.optimizer.zero_grad()
                ent_coef_loss.backward()
                alpha.optimizer.step()
            ent_coefs.append(ent_coef)

            with corenn.no_grad():
                next_actions, next_log_prob = actor(next_obs, rng=rng)
                next_q = critic_target(next_obs, next_actions).data.min(axis=0)  # (B,)
                next_q -= ent_coef * next_log_prob.data
                target_q = rewards + self.gamma * (1.0 - dones) * next_q

            q = critic(obs, actions)  # (n_critics, B)
            # 0.5 * sum_i mse(q_i, y) as one node: the mean over (critics, batch) times the number of critics
            critic_loss = 0.5 * critic.n_critics * F.mse_loss(q, target_q)
            critic_losses.append(check_finite_scalar("critic loss", float(critic_loss.data), update, step))
            critic.optimizer.zero_grad()
            critic_loss.backward()
            critic.optimizer.step()

            critic.requires_grad_(False)  # only dQ/da flows back to the actor
            try:
                min_q_pi = take_min(critic(obs, actions_pi))
                actor_loss = (log_prob * ent_coef - min_q_pi).mean()
                actor_losses.append(check_finite_scalar("actor loss", float(actor_loss.data), update, step))
                actor.optimizer.zero_grad()
                actor_loss.backward()
            finally:
                critic.requires_grad_(True)
            actor.optimizer.step()

            self._n_updates += 1
            if self._n_updates % self.target_update_interval == 0:
                polyak_update(self._critic_params, self._critic_target_params, self.tau)

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
