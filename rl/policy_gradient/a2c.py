"""Advantage Actor-Critic (synchronous A3C, Mnih et al. 2016) with SB3's defaults and log tags.

Per iteration: n_steps x n_envs transitions, GAE(lambda) advantages (lambda = 1 by default: n-step
returns bootstrapped from V), then one gradient step on the whole rollout:
    L = -E[A log pi(a|s)] + vf_coef * E[(V - R)^2] - ent_coef * E[H]
with RMSprop (alpha 0.99, eps 1e-5) and gradient-norm clipping, as SB3. A non-finite loss or
gradient norm raises ValueError before the weights are touched.
"""

from __future__ import annotations

import numpy as np

from corenn import optim
from corenn.nn import functional as F
from corenn.nn.utils import clip_grad_norm_

from ..core.on_policy_algorithm import OnPolicyAlgorithm
from ..core.validation import check_finite_scalar, check_hyperparameters, constructor_args
from .policies import ActorCriticCnnPolicy, ActorCriticPolicy, MultiInputActorCriticPolicy

__all__ = ["A2C"]


class A2C(OnPolicyAlgorithm):
    """A2C. policy: "MlpPolicy"; env: id, Env or vector env; learning_rate may be a schedule."""

    algo_name = "A2C"
    policy_aliases = {"MlpPolicy": ActorCriticPolicy, "CnnPolicy": ActorCriticCnnPolicy,
                      "MultiInputPolicy": MultiInputActorCriticPolicy}
    _hparam_names = ("learning_rate", "n_steps", "gamma", "gae_lambda", "ent_coef", "vf_coef", "max_grad_norm",
                     "rms_prop_eps", "use_rms_prop", "normalize_advantage", "use_sde", "sde_sample_freq")

    def __init__(self, policy, env, learning_rate=7e-4, n_steps: int = 5, gamma: float = 0.99,
                 gae_lambda: float = 1.0, ent_coef: float = 0.0, vf_coef: float = 0.5, max_grad_norm: float = 0.5,
                 rms_prop_eps: float = 1e-5, use_rms_prop: bool = True, use_sde: bool = False,
                 sde_sample_freq: int = -1, rollout_buffer_class=None, rollout_buffer_kwargs: dict | None = None,
                 normalize_advantage: bool = False, stats_window_size: int = 100, tensorboard_log: str | None = None,
                 policy_kwargs: dict | None = None, verbose: int = 0, seed: int | None = None, device: str = "auto",
                 normalize: bool | dict = False, n_envs: int = 1, blas_num_threads: int | str | None = "auto",
                 _init_setup_model: bool = True):
        check_hyperparameters("A2C", constructor_args(locals()))
        super().__init__(policy, env, learning_rate=learning_rate, n_steps=n_steps, gamma=gamma,
                         gae_lambda=gae_lambda, ent_coef=ent_coef, vf_coef=vf_coef, max_grad_norm=max_grad_norm,
                         use_sde=use_sde, sde_sample_freq=sde_sample_freq, rollout_buffer_class=rollout_buffer_class,
                         rollout_buffer_kwargs=rollout_buffer_kwargs, stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, policy_kwargs=policy_kwargs, verbose=verbose, seed=seed,
                         device=device, normalize=normalize, n_envs=n_envs, blas_num_threads=blas_num_threads)
        self.rms_prop_eps, self.use_rms_prop = float(rms_prop_eps), bool(use_rms_prop)
        self.normalize_advantage = bool(normalize_advantage)
        if use_rms_prop and "optimizer_class" not in self.policy_kwargs:
            self.policy_kwargs["optimizer_class"] = optim.RMSprop
            self.policy_kwargs["optimizer_kwargs"] = dict(alpha=0.99, eps=rms_prop_eps, weight_decay=0)
        if _init_setup_model:
            self._setup_model()

    def train(self) -> None:
        """One gradient step on the whole rollout buffer."""
        policy, buf = self.policy, self.rollout_buffer
        policy.train(True)
        self._update_learning_rate(policy.optimizer)
        for batch in buf.get(None, self.rng):
            values, log_prob, entropy = policy.evaluate_actions(batch.observations, batch.actions)
            advantages = batch.advantages
            if self.normalize_advantage:
                advantages = (advantages - advantages.mean()) / (advantages.std(ddof=1) + 1e-8)

            policy_loss = -(log_prob * advantages).mean()
            value_loss = F.mse_loss(values, batch.returns)
            entropy_loss = -entropy.mean()
            loss = policy_loss + self.vf_coef * value_loss
            if self.ent_coef != 0.0:
                loss = loss + self.ent_coef * entropy_loss
            update, step = self._n_updates + 1, self.num_timesteps
            for what, value in (("policy gradient loss", policy_loss), ("value loss", value_loss),
                                ("entropy loss", entropy_loss)):
                check_finite_scalar(what, float(value.data), update, step)

            policy.optimizer.zero_grad()
            loss.backward()
            check_finite_scalar("gradient norm", clip_grad_norm_(list(policy.parameters()), self.max_grad_norm),
                                update, step)
            policy.optimizer.step()

        self._n_updates += 1
        log = self.logger.record
        log("train/n_updates", self._n_updates, exclude="tensorboard")
        log("train/explained_variance", self.explained_variance(buf.values.ravel(), buf.returns.ravel()))
        log("train/entropy_loss", float(entropy_loss.data))
        log("train/policy_loss", float(policy_loss.data))
        log("train/policy_gradient_loss", float(policy_loss.data))
        log("train/value_loss", float(value_loss.data))
        if hasattr(policy, "log_std"):
            log("train/std", float(np.exp(policy.log_std.data).mean()))

    def learn(self, total_timesteps: int, callback=None, log_interval: int = 100, tb_log_name: str = "A2C",
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps, progress_bar)
