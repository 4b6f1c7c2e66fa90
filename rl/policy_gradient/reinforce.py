"""REINFORCE (Williams 1992): Monte-Carlo policy gradient with an optional learned baseline.

Per iteration: n_steps x n_envs transitions; G_t = sum_k gamma^k r_{t+k} to the end of each
episode, then one gradient step on
    L = -E[(G_t - b(s_t)) log pi(a_t|s_t)] (+ vf_coef * E[(V(s_t) - G_t)^2] with the baseline).
Episodes still running when the rollout ends have no Monte-Carlo return yet: with the baseline
their tail is bootstrapped from V (an n-step return), without it the tail is left out of the loss.
Time-limit truncations are bootstrapped from V only when the baseline is used. A non-finite loss
or gradient norm raises ValueError before the weights are touched.
"""

from __future__ import annotations

import numpy as np

from corenn.nn import functional as F
from corenn.nn.utils import clip_grad_norm_

from ..core.on_policy_algorithm import OnPolicyAlgorithm
from ..core.rollout_buffer import compute_gae, take_rows
from ..core.validation import check_finite_scalar, check_hyperparameters, constructor_args
from .policies import ActorCriticCnnPolicy, ActorCriticPolicy, MultiInputActorCriticPolicy

__all__ = ["REINFORCE"]


def incomplete_tail_mask(episode_starts: np.ndarray, dones: np.ndarray) -> np.ndarray:
    """(T, N) bool: True where the step's episode ends inside the rollout (its MC return is complete)."""
    T, N = episode_starts.shape
    ends = np.zeros((T, N), bool)
    ends[:-1] = episode_starts[1:] > 0  # step t ended an episode iff obs t+1 starts one
    ends[-1] = np.asarray(dones, bool)
    complete = np.zeros((T, N), bool)
    seen_end = np.zeros(N, bool)
    for t in range(T - 1, -1, -1):
        seen_end |= ends[t]
        complete[t] = seen_end
    return complete


class REINFORCE(OnPolicyAlgorithm):
    """REINFORCE. use_baseline: learn V(s) and subtract it; normalize_advantage: standardise G - b per batch."""

    algo_name = "REINFORCE"
    policy_aliases = {"MlpPolicy": ActorCriticPolicy, "CnnPolicy": ActorCriticCnnPolicy,
                      "MultiInputPolicy": MultiInputActorCriticPolicy}
    _hparam_names = ("learning_rate", "n_steps", "gamma", "use_baseline", "normalize_advantage", "ent_coef",
                     "vf_coef", "max_grad_norm")

    def __init__(self, policy, env, learning_rate=1e-3, n_steps: int = 1024, gamma: float = 0.99,
                 use_baseline: bool = True, normalize_advantage: bool = True, ent_coef: float = 0.0,
                 vf_coef: float = 0.5, max_grad_norm: float | None = None, stats_window_size: int = 100,
                 tensorboard_log: str | None = None, policy_kwargs: dict | None = None, verbose: int = 0,
                 seed: int | None = None, device: str = "auto", normalize: bool | dict = False, n_envs: int = 1,
                 blas_num_threads: int | str | None = "auto", _init_setup_model: bool = True):
        check_hyperparameters("REINFORCE", constructor_args(locals()))
        super().__init__(policy, env, learning_rate=learning_rate, n_steps=n_steps, gamma=gamma, gae_lambda=1.0,
                         ent_coef=ent_coef, vf_coef=vf_coef, max_grad_norm=max_grad_norm or 0.0,
                         stats_window_size=stats_window_size, tensorboard_log=tensorboard_log,
                         policy_kwargs=policy_kwargs, verbose=verbose, seed=seed, device=device, normalize=normalize,
                         n_envs=n_envs, blas_num_threads=blas_num_threads)
        self.max_grad_norm = max_grad_norm
        self.use_baseline, self.normalize_advantage = bool(use_baseline), bool(normalize_advantage)
        if _init_setup_model:
            self._setup_model()

    def _bootstrap_truncated(self, rewards, terminated, truncated, infos) -> None:
        if self.use_baseline:
            super()._bootstrap_truncated(rewards, terminated, truncated, infos)

    def train(self) -> None:
        """One gradient step on the Monte-Carlo returns of the rollout."""
        policy, buf = self.policy, self.rollout_buffer
        policy.train(True)
        self._update_learning_rate(policy.optimizer)
        dones = buf.last_dones
        if self.use_baseline:
            _, returns = compute_gae(buf.rewards, buf.values, buf.episode_starts, buf.last_values, dones,
                                     self.gamma, 1.0)
            keep = np.ones(returns.shape, bool)
        else:
            zeros = np.zeros_like(buf.values)
            _, returns = compute_gae(buf.rewards, zeros, buf.episode_starts, zeros[0], np.ones_like(dones),
                                     self.gamma, 1.0)
            keep = incomplete_tail_mask(buf.episode_starts, dones)
        keep = keep.reshape(-1)
        if not keep.any():  # no episode finished in this rollout: nothing to learn from yet
            self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
            return
        data = buf.flat()
        obs, actions, returns = take_rows(data.observations, keep), data.actions[keep], returns.reshape(-1)[keep]

        values, log_prob, entropy = policy.evaluate_actions(obs, actions)
        advantages = returns - values.data if self.use_baseline else returns
        if self.normalize_advantage and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std(ddof=1) + 1e-8)
        policy_loss = -(log_prob * advantages).mean()
        entropy_loss = -entropy.mean()
        loss = policy_loss
        if self.use_baseline:
            value_loss = F.mse_loss(values, returns)
            loss = loss + self.vf_coef * value_loss
        if self.ent_coef != 0.0:
            loss = loss + self.ent_coef * entropy_loss
        update, step = self._n_updates + 1, self.num_timesteps
        check_finite_scalar("policy gradient loss", float(policy_loss.data), update, step)
        if self.use_baseline:
            check_finite_scalar("value loss", float(value_loss.data), update, step)
        check_finite_scalar("loss", float(loss.data), update, step)

        policy.optimizer.zero_grad()
        loss.backward()
        if self.max_grad_norm:
            check_finite_scalar("gradient norm", clip_grad_norm_(list(policy.parameters()), self.max_grad_norm),
                                update, step)
        policy.optimizer.step()

        self._n_updates += 1
        log = self.logger.record
        log("train/n_updates", self._n_updates, exclude="tensorboard")
        log("train/policy_gradient_loss", float(policy_loss.data))
        log("train/entropy_loss", float(entropy_loss.data))
        if self.use_baseline:
            log("train/value_loss", float(value_loss.data))
            log("train/explained_variance", self.explained_variance(values.data, returns))
        log("train/loss", float(loss.data))

    def learn(self, total_timesteps: int, callback=None, log_interval: int = 1, tb_log_name: str = "REINFORCE",
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps, progress_bar)
