"""OnPolicyAlgorithm: the rollout -> train loop shared by REINFORCE, A2C and PPO (SB3 shape).

Each iteration collects `n_steps` vector-env steps into a RolloutBuffer (acting under no_grad),
bootstraps truncated episodes with gamma * V(final_obs), computes GAE, then calls `train()`.
With gSDE (use_sde=True, Box actions) the policy draws new exploration matrices from `self.rng` at the start
of each rollout and every `sde_sample_freq` steps when that is > 0 (SB3).
Actions, observations, rewards and the final observations used to bootstrap must be finite
(`rl.core.validation`: a ValueError names the env and the step).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from .base_algorithm import BaseAlgorithm, reject_unsupported
from .rollout_buffer import RolloutBuffer
from .validation import (
    check_actions,
    check_env_step,
    check_final_observations,
    check_hyperparameters,
    check_rollout_size,
    constructor_args,
)

__all__ = ["OnPolicyAlgorithm"]


class OnPolicyAlgorithm(BaseAlgorithm):
    """Subclasses set `policy_aliases`, implement `train()` and call `self._setup_model()` at the end
    of __init__ when `_init_setup_model`; hyperparameters have SB3's names. There is one rollout
    buffer: rollout_buffer_class / rollout_buffer_kwargs must stay None. use_sde: gSDE exploration (Box
    actions; the policy gets use_sde=True), sde_sample_freq: new noise every n steps (-1: once per rollout)."""

    def __init__(self, policy, env, learning_rate, n_steps: int, gamma: float, gae_lambda: float,
                 ent_coef: float, vf_coef: float, max_grad_norm: float, use_sde: bool = False,
                 sde_sample_freq: int = -1, rollout_buffer_class=None, rollout_buffer_kwargs: dict | None = None,
                 stats_window_size: int = 100, tensorboard_log: str | None = None, policy_kwargs: dict | None = None,
                 verbose: int = 0, seed: int | None = None, device: str = "auto", normalize: bool | dict = False,
                 n_envs: int = 1, blas_num_threads: int | str | None = "auto"):
        check_hyperparameters("OnPolicyAlgorithm", constructor_args(locals()))
        reject_unsupported(self.algo_name, "custom rollout buffers", rollout_buffer_class=(rollout_buffer_class, None),
                           rollout_buffer_kwargs=(rollout_buffer_kwargs or None, None))
        super().__init__(policy, env, learning_rate=learning_rate, policy_kwargs=policy_kwargs,
                         stats_window_size=stats_window_size, tensorboard_log=tensorboard_log, verbose=verbose,
                         device=device, seed=seed, use_sde=use_sde, sde_sample_freq=sde_sample_freq,
                         normalize=normalize, n_envs=n_envs, blas_num_threads=blas_num_threads)
        self.n_steps, self.gamma, self.gae_lambda = int(n_steps), float(gamma), float(gae_lambda)
        self.ent_coef, self.vf_coef, self.max_grad_norm = float(ent_coef), float(vf_coef), float(max_grad_norm)
        check_rollout_size(self.n_steps, self.n_envs)

    def _check_spaces(self) -> None:
        super()._check_spaces()
        if self.use_sde and not isinstance(self.action_space, gym.spaces.Box):
            raise ValueError("generalized State-Dependent Exploration (gSDE) can only be used with continuous "
                             f"actions (a Box action space), got {self.action_space}")

    def _setup_model(self) -> None:
        self._setup_normalizer()
        policy_kwargs = dict(self.policy_kwargs)
        if "use_sde" in policy_kwargs and bool(policy_kwargs["use_sde"]) != self.use_sde:
            raise ValueError(f"policy_kwargs use_sde={policy_kwargs['use_sde']!r} differs from the algorithm's "
                             f"use_sde={self.use_sde!r}: pass use_sde to {self.algo_name}, not in policy_kwargs")
        if self.use_sde:  # only then, so that custom policies without a use_sde argument keep working
            policy_kwargs["use_sde"] = True
        self.policy = self.policy_class(self.observation_space, self.action_space, self.lr_schedule, **policy_kwargs)
        self._setup_buffer()

    def _setup_buffer(self) -> None:
        discrete = not hasattr(self.action_space, "low")
        obs_shape, obs_dtype = self.preprocessor.storage  # flat float32 features, or raw (uint8 images)
        self.rollout_buffer = RolloutBuffer(
            self.n_steps, self.n_envs, obs_shape,
            () if discrete else tuple(self.action_space.shape), np.int64 if discrete else np.float32,
            gamma=self.gamma, gae_lambda=self.gae_lambda, obs_dtype=obs_dtype)

    def _load_extra_state(self, data: dict) -> None:
        super()._load_extra_state(data)
        if self.use_sde:  # exploration matrices from the loaded log_std, as SB3's load (reset_noise())
            self.policy.reset_noise(1, rng=self.rng)

    def set_env(self, env, force_reset: bool = True) -> None:
        n_before = self.n_envs
        super().set_env(env, force_reset)
        if self.n_envs != n_before:
            self._setup_buffer()

    # ------------------------------------------------------------------ rollouts
    def _maybe_reset_noise(self, n_steps: int) -> None:
        """gSDE: new exploration matrices (one per env) at step 0 of a rollout and every sde_sample_freq steps."""
        if self.use_sde and (n_steps == 0 or (self.sde_sample_freq > 0 and n_steps % self.sde_sample_freq == 0)):
            self.policy.reset_noise(self.n_envs, rng=self.rng)

    def _bootstrap_truncated(self, rewards: np.ndarray, terminated, truncated, infos) -> None:
        """In place: rewards[i] += gamma * V(final_obs_i) for sub-envs cut by a time limit."""
        cut = np.flatnonzero(truncated & ~terminated)
        if cut.size == 0:
            return
        check_final_observations(infos, cut, self.num_timesteps)
        final = infos["final_obs"]
        if isinstance(final[cut[0]], dict):
            batch = {k: np.stack([final[i][k] for i in cut]) for k in final[cut[0]]}
        else:
            batch = np.stack([final[i] for i in cut])
        values = self.policy.predict_values(self._features(batch))
        rewards[cut] += self.gamma * values

    def collect_rollouts(self, env, callback, rollout_buffer: RolloutBuffer, n_rollout_steps: int) -> bool:
        """Fill `rollout_buffer` with `n_rollout_steps` steps; False if a callback asked to stop."""
        self.policy.train(False)
        rollout_buffer.reset()
        callback.on_rollout_start()
        policy, rng, norm = self.policy, self.rng, self.obs_normalizer
        n_steps = 0
        dones = np.zeros(self.n_envs, bool)
        while n_steps < n_rollout_steps:
            self._maybe_reset_noise(n_steps)
            actions, values, log_probs = policy.act(self._last_features, rng=rng)
            check_actions(actions, self.num_timesteps)
            new_obs, rewards, terminated, truncated, infos = env.step(policy.scale_actions(actions))
            self.num_timesteps += self.n_envs
            check_env_step(new_obs, rewards, self.num_timesteps)
            dones = terminated | truncated  # before the callback sees locals(), as SB3's `dones`
            callback.update_locals(locals())
            if not callback.on_step():
                return False
            self._update_info_buffer(infos, dones)
            rewards = np.asarray(rewards, np.float32)
            if norm is not None:
                rewards = norm.process_reward(rewards, dones)
            if truncated.any():
                self._bootstrap_truncated(rewards, terminated, truncated, infos)
            rollout_buffer.add(self._last_features, actions, rewards, self._last_episode_starts, values, log_probs)
            self._last_obs = new_obs
            self._last_features = self._features(new_obs, update=True)
            self._last_episode_starts = dones.astype(np.float32)
            n_steps += 1
        last_values = policy.predict_values(self._last_features)
        rollout_buffer.compute_returns_and_advantage(last_values, dones)
        callback.update_locals(locals())
        callback.on_rollout_end()
        return True

    def train(self) -> None:
        """One update from the filled rollout buffer (subclasses)."""
        raise RuntimeError(f"{type(self).__name__} must define train()")

    def learn(self, total_timesteps: int, callback=None, log_interval: int = 1, tb_log_name: str = "OnPolicy",
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        """Alternate collect_rollouts and train until `total_timesteps` env steps (SB3 semantics)."""
        iteration = 0
        total_timesteps, callback = self._setup_learn(total_timesteps, callback, reset_num_timesteps,
                                                      tb_log_name, progress_bar)
        callback.on_training_start(locals(), globals())
        try:
            with self._learning_threads() as recheck_threads:
                while self.num_timesteps < total_timesteps:
                    if not self.collect_rollouts(self.env, callback, self.rollout_buffer, self.n_steps):
                        break
                    iteration += 1
                    self._update_current_progress_remaining(self.num_timesteps, total_timesteps)
                    if log_interval is not None and log_interval > 0 and iteration % log_interval == 0:
                        self._dump_logs(iteration)
                    recheck_threads()
                    self.train()
        finally:
            callback.on_training_end()
        return self

    @staticmethod
    def explained_variance(y_pred: np.ndarray, y_true: np.ndarray) -> float:
        """1 - Var[y_true - y_pred] / Var[y_true] (nan when Var[y_true] == 0)."""
        var_y = float(np.var(y_true))
        return float("nan") if var_y == 0 else 1.0 - float(np.var(y_true - y_pred)) / var_y
