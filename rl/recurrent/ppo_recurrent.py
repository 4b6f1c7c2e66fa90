"""RecurrentPPO: PPO with LSTM policies (sb3-contrib's RecurrentPPO, its arguments, defaults and log tags).

Collection: each step feeds the actor's and the critic's LSTM states of every env, zeroed first for the
envs whose episode starts, and keeps the new states for the next step, across rollouts; the states before
each step are stored with it (rl.core.recurrent_rollout_buffer). Training: n_epochs passes over minibatches
of batch_size steps cut into sequences as sb3-contrib does (consecutive steps of one env within one episode,
starting from their stored states, zeroed at an episode start as during collection) minimising PPO's loss
    L = -E[min(r A, clip(r, 1-eps, 1+eps) A)] + vf_coef * E[(V - R)^2] - ent_coef * E[H]
(means over the real, non-padding steps). Truncated episodes bootstrap with gamma * V(final_obs) computed
from that env's critic state. use_sde: gSDE on the actor's latent (the LSTM output after the policy MLP, as
sb3-contrib), new exploration matrices at each rollout's start and every sde_sample_freq steps.
"""

from __future__ import annotations

import numpy as np

import corenn

from ..core.preprocessing import predict_input
from ..core.recurrent_rollout_buffer import RecurrentRolloutBuffer
from ..core.validation import (
    check_actions,
    check_env_step,
    check_final_observations,
    check_hyperparameters,
    constructor_args,
)
from ..policy_gradient.ppo import PPO
from .policies import (
    RecurrentActorCriticCnnPolicy,
    RecurrentActorCriticPolicy,
    RecurrentMultiInputActorCriticPolicy,
    RNNStates,
)

__all__ = ["RecurrentPPO"]


def _weighted_normalize(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(x - mean) / (std + 1e-8) over the entries with mask 1 (unbiased std, as torch's .std())."""
    n = mask.sum()
    d = x - (x * mask).sum() / n
    return d / (np.sqrt((d * d * mask).sum() / max(n - 1, 1)) + 1e-8)


def _mean(x, w):
    """Mean of a (S*B,) Tensor over the real steps: weights w (mask / count, padding 0), or None for all."""
    return x.mean() if w is None else (x * w).sum()


class RecurrentPPO(PPO):
    """PPO with an LSTM policy: "MlpLstmPolicy", "CnnLstmPolicy" or "MultiInputLstmPolicy".

    `predict(obs, state=lstm_states, episode_start=episode_starts, deterministic=...)` -> (actions,
    lstm_states) as sb3-contrib; `_last_lstm_states` (RNNStates) carries the training envs' states.
    """

    algo_name = "RecurrentPPO"
    hyperparams_file = "ppo_lstm"  # rl-zoo3's name: rl/hyperparams/ppo_lstm.yml
    policy_aliases = {"MlpLstmPolicy": RecurrentActorCriticPolicy, "CnnLstmPolicy": RecurrentActorCriticCnnPolicy,
                      "MultiInputLstmPolicy": RecurrentMultiInputActorCriticPolicy}

    def __init__(self, policy, env, learning_rate=3e-4, n_steps: int = 128, batch_size: int = 128,
                 n_epochs: int = 10, gamma: float = 0.99, gae_lambda: float = 0.95, clip_range=0.2,
                 clip_range_vf=None, normalize_advantage: bool = True, ent_coef: float = 0.0, vf_coef: float = 0.5,
                 max_grad_norm: float = 0.5, use_sde: bool = False, sde_sample_freq: int = -1,
                 target_kl: float | None = None, stats_window_size: int = 100, tensorboard_log: str | None = None,
                 policy_kwargs: dict | None = None, verbose: int = 0, seed: int | None = None, device: str = "auto",
                 normalize: bool | dict = False, n_envs: int = 1, blas_num_threads: int | str | None = "auto",
                 _init_setup_model: bool = True):
        check_hyperparameters("RecurrentPPO", constructor_args(locals()))
        self._last_lstm_states = None
        super().__init__(policy, env, learning_rate=learning_rate, n_steps=n_steps, batch_size=batch_size,
                         n_epochs=n_epochs, gamma=gamma, gae_lambda=gae_lambda, clip_range=clip_range,
                         clip_range_vf=clip_range_vf, normalize_advantage=normalize_advantage, ent_coef=ent_coef,
                         vf_coef=vf_coef, max_grad_norm=max_grad_norm, use_sde=use_sde,
                         sde_sample_freq=sde_sample_freq, target_kl=target_kl, stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, policy_kwargs=policy_kwargs, verbose=verbose, seed=seed,
                         device=device, normalize=normalize, n_envs=n_envs, blas_num_threads=blas_num_threads,
                         _init_setup_model=False)
        if _init_setup_model:
            self._setup_model()

    # ------------------------------------------------------------------ setup
    def _setup_buffer(self) -> None:
        discrete = not hasattr(self.action_space, "low")
        obs_shape, obs_dtype = self.preprocessor.storage
        self.rollout_buffer = RecurrentRolloutBuffer(
            self.n_steps, self.n_envs, obs_shape, () if discrete else tuple(self.action_space.shape),
            self.policy.lstm_state_shape, np.int64 if discrete else np.float32,
            gamma=self.gamma, gae_lambda=self.gae_lambda, obs_dtype=obs_dtype)
        self._last_lstm_states = self.policy.initial_state(self.n_envs)

    def _reset_env(self) -> None:
        super()._reset_env()
        self._last_lstm_states = self.policy.initial_state(self.n_envs)

    def lstm_states_array(self) -> np.ndarray:
        """The training envs' states as one array (4, n_lstm_layers, n_envs, H): pi h, pi c, vf h, vf c."""
        (a, b), (c, d) = self._last_lstm_states
        return np.stack([a, b, c, d]).astype(np.float32)

    def set_lstm_states_array(self, array: np.ndarray) -> None:
        a = np.array(array, np.float32)
        self._last_lstm_states = RNNStates((a[0], a[1]), (a[2], a[3]))

    # ------------------------------------------------------------------ rollouts
    def _bootstrap_truncated_recurrent(self, rewards, terminated, truncated, infos, vf_states) -> None:
        """In place: rewards[i] += gamma * V(final_obs_i) for envs cut by a time limit, from env i's critic
        state after the step (sb3-contrib)."""
        cut = np.flatnonzero(truncated & ~terminated)
        if cut.size == 0:
            return
        check_final_observations(infos, cut, self.num_timesteps)
        final = infos["final_obs"]
        if isinstance(final[cut[0]], dict):
            batch = {k: np.stack([final[i][k] for i in cut]) for k in final[cut[0]]}
        else:
            batch = np.stack([final[i] for i in cut])
        h, c = vf_states
        states = RNNStates((h[:, cut], c[:, cut]), (h[:, cut], c[:, cut]))
        rewards[cut] += self.gamma * self.policy.predict_values(self._features(batch), states)

    def collect_rollouts(self, env, callback, rollout_buffer: RecurrentRolloutBuffer, n_rollout_steps: int) -> bool:
        """Fill `rollout_buffer` with `n_rollout_steps` steps, carrying the LSTM states; False if a callback
        asked to stop."""
        self.policy.train(False)
        rollout_buffer.reset()
        callback.on_rollout_start()
        policy, rng, norm = self.policy, self.rng, self.obs_normalizer
        n_steps = 0
        dones = np.zeros(self.n_envs, bool)
        while n_steps < n_rollout_steps:
            self._maybe_reset_noise(n_steps)  # gSDE: at step 0 and every sde_sample_freq steps
            states = self._last_lstm_states
            actions, values, log_probs, new_states = policy.act(self._last_features, states,
                                                                self._last_episode_starts, rng=rng)
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
                self._bootstrap_truncated_recurrent(rewards, terminated, truncated, infos, new_states.vf)
            rollout_buffer.add(self._last_features, actions, rewards, self._last_episode_starts, values, log_probs,
                               lstm_states=states)
            self._last_obs = new_obs
            self._last_features = self._features(new_obs, update=True)
            self._last_episode_starts = dones.astype(np.float32)
            self._last_lstm_states = new_states
            n_steps += 1
        last_values = policy.predict_values(self._last_features, self._last_lstm_states, self._last_episode_starts)
        rollout_buffer.compute_returns_and_advantage(last_values, dones)
        callback.update_locals(locals())
        callback.on_rollout_end()
        return True

    # ------------------------------------------------------------------ training
    def train(self) -> None:
        """n_epochs of updates on minibatches of sequences from the current rollout buffer."""
        policy, buf = self.policy, self.rollout_buffer
        clip_range, clip_range_vf, params, stats = self._start_train()
        continue_training = True
        for epoch in range(self.n_epochs):
            stats["approx_kl"] = []  # logged for the last epoch, as SB3
            for batch in buf.get(self.batch_size, self.rng):
                mask = batch.mask
                n = float(mask.sum())
                full = n == len(mask)
                w = None if full else (mask / n).astype(np.float32)
                values, log_prob, entropy = policy.evaluate_actions(
                    batch.observations, batch.actions, RNNStates(*batch.lstm_states), batch.episode_starts,
                    entropy_grad=self.ent_coef != 0.0)
                advantages = batch.advantages
                if self.normalize_advantage and n > 1:
                    advantages = _weighted_normalize(advantages, mask).astype(np.float32)

                log_ratio = log_prob - batch.old_log_prob
                ratio = log_ratio.exp()
                policy_loss_1 = ratio * advantages
                policy_loss_2 = ratio.clip(1.0 - clip_range, 1.0 + clip_range) * advantages
                policy_loss = -_mean(corenn.minimum(policy_loss_1, policy_loss_2), w)
                if clip_range_vf is None:
                    values_pred = values
                else:
                    values_pred = (values - batch.old_values).clip(-clip_range_vf, clip_range_vf) + batch.old_values
                diff = values_pred - batch.returns
                value_loss = _mean(diff * diff, w)
                entropy_loss = -_mean(entropy, w)
                loss = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss

                if not self._record_and_step(loss, policy_loss, value_loss, entropy_loss, ratio, log_ratio, stats,
                                             clip_range, epoch, params, real=None if full else mask > 0):
                    continue_training = False
                    break
            self._n_updates += 1
            if not continue_training:
                break

        self._log_train(stats, clip_range, clip_range_vf)

    # ------------------------------------------------------------------ acting
    def predict(self, observation, state=None, episode_start=None, deterministic: bool = False):
        """Observation(s) -> (actions, lstm_states) as sb3-contrib: state (h, c) each (n_lstm_layers, n_envs,
        lstm_hidden_size) or None (zeros); episode_start (n_envs,) flags zero those envs' states first."""
        obs = predict_input(observation, self.observation_space, f"{type(self).__name__}.predict")
        batched = self.preprocessor.is_batched(obs)
        self._check_finite(obs)
        feats = self.preprocessor(obs, batched=batched)
        if self.obs_normalizer is not None and not self.preprocessor.raw:
            feats = self.obs_normalizer.normalize_obs(feats)
        actions, states = self.policy.predict_actions(feats, deterministic, self._predict_rng, state, episode_start)
        return (actions if batched else actions[0]), states

    def learn(self, total_timesteps: int, callback=None, log_interval: int = 1, tb_log_name: str = "RecurrentPPO",
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps, progress_bar)
