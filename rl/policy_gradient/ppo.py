"""Proximal Policy Optimization (Schulman et al. 2017), clip variant, with SB3's defaults and log tags.

Per iteration: collect n_steps x n_envs transitions (rl.core.on_policy_algorithm), compute
GAE(lambda), then n_epochs passes of shuffled minibatches minimising
    L = -E[min(r A, clip(r, 1-eps, 1+eps) A)] + vf_coef * E[(V - R)^2] - ent_coef * E[H]
with r = pi(a|s) / pi_old(a|s), optional value clipping, gradient-norm clipping, and an early
stop when the approximate KL exceeds 1.5 * target_kl. A non-finite loss or gradient norm raises
ValueError before the weights are touched. With use_sde, pi is gSDE's state-dependent Gaussian
(rl.core.sde_distribution); as in SB3 >= 2.4 train() draws no new noise matrices, which enter neither
log pi nor H (DLR-RM/stable-baselines3#1929).
"""

from __future__ import annotations

import numpy as np

import corenn
from corenn.nn import functional as F
from corenn.nn.utils import clip_grad_norm_

from ..core.on_policy_algorithm import OnPolicyAlgorithm
from ..core.schedules import get_schedule_fn
from ..core.validation import check_finite_scalar, check_hyperparameters, check_rollout_size, constructor_args
from .policies import ActorCriticCnnPolicy, ActorCriticPolicy, MultiInputActorCriticPolicy

__all__ = ["PPO"]


def normalize(x: np.ndarray) -> np.ndarray:
    """(x - mean) / (std + 1e-8) with the unbiased std, as SB3 (torch's .std())."""
    d = x - x.sum() / len(x)
    return d / (np.sqrt((d * d).sum() / (len(x) - 1)) + 1e-8)


class PPO(OnPolicyAlgorithm):
    """PPO-clip.

    policy: "MlpPolicy"; env: id, Env or vector env; schedulable: learning_rate, clip_range, clip_range_vf.
    """

    algo_name = "PPO"
    policy_aliases = {"MlpPolicy": ActorCriticPolicy, "CnnPolicy": ActorCriticCnnPolicy,
                      "MultiInputPolicy": MultiInputActorCriticPolicy}
    _hparam_names = ("learning_rate", "n_steps", "batch_size", "n_epochs", "gamma", "gae_lambda", "clip_range",
                     "clip_range_vf", "normalize_advantage", "ent_coef", "vf_coef", "max_grad_norm", "target_kl",
                     "use_sde", "sde_sample_freq")

    def __init__(self, policy, env, learning_rate=3e-4, n_steps: int = 2048, batch_size: int = 64,
                 n_epochs: int = 10, gamma: float = 0.99, gae_lambda: float = 0.95, clip_range=0.2,
                 clip_range_vf=None, normalize_advantage: bool = True, ent_coef: float = 0.0, vf_coef: float = 0.5,
                 max_grad_norm: float = 0.5, use_sde: bool = False, sde_sample_freq: int = -1,
                 rollout_buffer_class=None, rollout_buffer_kwargs: dict | None = None, target_kl: float | None = None,
                 stats_window_size: int = 100, tensorboard_log: str | None = None, policy_kwargs: dict | None = None,
                 verbose: int = 0, seed: int | None = None, device: str = "auto", normalize: bool | dict = False,
                 n_envs: int = 1, blas_num_threads: int | str | None = "auto", _init_setup_model: bool = True):
        check_hyperparameters("PPO", constructor_args(locals()))
        super().__init__(policy, env, learning_rate=learning_rate, n_steps=n_steps, gamma=gamma,
                         gae_lambda=gae_lambda, ent_coef=ent_coef, vf_coef=vf_coef, max_grad_norm=max_grad_norm,
                         use_sde=use_sde, sde_sample_freq=sde_sample_freq, rollout_buffer_class=rollout_buffer_class,
                         rollout_buffer_kwargs=rollout_buffer_kwargs, stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, policy_kwargs=policy_kwargs, verbose=verbose, seed=seed,
                         device=device, normalize=normalize, n_envs=n_envs, blas_num_threads=blas_num_threads)
        check_rollout_size(n_steps, self.n_envs, normalize_advantage)
        self.batch_size, self.n_epochs = int(batch_size), int(n_epochs)
        self.clip_range, self.clip_range_vf = clip_range, clip_range_vf
        self.normalize_advantage, self.target_kl = bool(normalize_advantage), target_kl
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        super()._setup_model()
        self.clip_range_fn = get_schedule_fn(self.clip_range)
        self.clip_range_vf_fn = None if self.clip_range_vf is None else get_schedule_fn(self.clip_range_vf)

    def train(self) -> None:
        """n_epochs of minibatch updates on the current rollout buffer."""
        policy, buf = self.policy, self.rollout_buffer
        clip_range, clip_range_vf, params, stats = self._start_train()
        continue_training = True
        for epoch in range(self.n_epochs):
            stats["approx_kl"] = []  # logged for the last epoch, as SB3
            for batch in buf.get(self.batch_size, self.rng):
                values, log_prob, entropy = policy.evaluate_actions(batch.observations, batch.actions,
                                                                    entropy_grad=self.ent_coef != 0.0)
                advantages = batch.advantages
                if self.normalize_advantage and len(advantages) > 1:
                    advantages = normalize(advantages)

                # clipped surrogate objective
                log_ratio = log_prob - batch.old_log_prob
                ratio = log_ratio.exp()
                policy_loss_1 = ratio * advantages
                policy_loss_2 = ratio.clip(1.0 - clip_range, 1.0 + clip_range) * advantages
                policy_loss = -corenn.minimum(policy_loss_1, policy_loss_2).mean()

                # value loss, optionally clipped around the rollout's values
                if clip_range_vf is None:
                    values_pred = values
                else:
                    values_pred = (values - batch.old_values).clip(-clip_range_vf, clip_range_vf) + batch.old_values
                value_loss = F.mse_loss(values_pred, batch.returns)

                # entropy bonus (entropy carries no graph when ent_coef is 0)
                entropy_loss = -entropy.mean()
                loss = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss

                if not self._record_and_step(loss, policy_loss, value_loss, entropy_loss, ratio, log_ratio, stats,
                                             clip_range, epoch, params):
                    continue_training = False
                    break
            self._n_updates += 1
            if not continue_training:
                break

        self._log_train(stats, clip_range, clip_range_vf)

    def _start_train(self):
        """Training mode, this update's lr and clip ranges from the schedules -> (clip_range, clip_range_vf or
        None, the parameters to clip, empty statistics)."""
        self.policy.train(True)
        self._update_learning_rate(self.policy.optimizer)
        progress = self._current_progress_remaining
        clip_range = self.clip_range_fn(progress)
        clip_range_vf = None if self.clip_range_vf_fn is None else self.clip_range_vf_fn(progress)
        stats = {"pg": [], "value": [], "entropy": [], "clip_fraction": [], "loss": float("nan")}
        return clip_range, clip_range_vf, list(self.policy.parameters()), stats

    def _record_and_step(self, loss, policy_loss, value_loss, entropy_loss, ratio, log_ratio, stats: dict,
                         clip_range: float, epoch: int, params, real=None) -> bool:
        """Record one minibatch's statistics (no graph: clip fraction, approximate KL (r - 1) - log r); stop
        (False) when the KL passes 1.5 * target_kl, else take one clipped-gradient optimizer step (True).
        `real` (bool mask) leaves padding out of the statistics (RecurrentPPO)."""
        r, log_r, update, step = ratio.data, log_ratio.data, self._n_updates + 1, self.num_timesteps
        if real is not None:
            r, log_r = r[real], log_r[real]
        stats["pg"].append(check_finite_scalar("policy gradient loss", float(policy_loss.data), update, step))
        stats["value"].append(check_finite_scalar("value loss", float(value_loss.data), update, step))
        stats["entropy"].append(check_finite_scalar("entropy loss", float(entropy_loss.data), update, step))
        stats["clip_fraction"].append(np.count_nonzero(np.abs(r - 1.0) > clip_range) / r.size)
        approx_kl = float(((r - 1.0) - log_r).sum()) / r.size
        stats["approx_kl"].append(approx_kl)
        stats["loss"] = float(loss.data)
        if self.target_kl is not None and approx_kl > 1.5 * self.target_kl:
            if self.verbose >= 1:
                print(f"Early stopping at step {epoch} due to reaching max kl: {approx_kl:.2f}")
            return False
        self.policy.optimizer.zero_grad()
        loss.backward()
        check_finite_scalar("gradient norm", clip_grad_norm_(params, self.max_grad_norm), update, step)
        self.policy.optimizer.step()
        return True

    def _log_train(self, stats: dict, clip_range: float, clip_range_vf) -> None:
        """SB3's train/ tags from one train() call's statistics."""
        buf, log = self.rollout_buffer, self.logger.record
        for tag, key in (("entropy_loss", "entropy"), ("policy_gradient_loss", "pg"), ("value_loss", "value"),
                         ("approx_kl", "approx_kl"), ("clip_fraction", "clip_fraction")):
            log(f"train/{tag}", float(np.mean(stats[key])) if stats[key] else float("nan"))
        log("train/loss", stats["loss"])
        log("train/explained_variance", self.explained_variance(buf.values.ravel(), buf.returns.ravel()))
        if hasattr(self.policy, "log_std"):
            log("train/std", float(np.exp(self.policy.log_std.data).mean()))
        log("train/n_updates", self._n_updates, exclude="tensorboard")
        log("train/clip_range", clip_range)
        if clip_range_vf is not None:
            log("train/clip_range_vf", clip_range_vf)

    def learn(self, total_timesteps: int, callback=None, log_interval: int = 1, tb_log_name: str = "PPO",
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps, progress_bar)
