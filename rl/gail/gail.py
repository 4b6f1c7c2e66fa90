"""Generative Adversarial Imitation Learning (Ho & Ermon 2016): PPO trained on a discriminator's reward.

A discriminator D(s, a) = sigmoid(f(s, a)) (an MLP on the policy's observation features and the action:
one-hot for Discrete, scaled to [-1, 1] for Box) is the probability that (s, a) comes from the expert.
Each PPO iteration (rollout of n_steps x n_envs steps, `rl.policy_gradient.PPO`):

    reward        r(s, a) = -log(1 - D(s, a)) = softplus(f(s, a))  > 0, large where D takes (s, a) for the
                  expert's; it replaces the env's reward in the rollout buffer before GAE (the env's own
                  return is still what rollout/ep_rew_mean reports). A time-limit cut keeps PPO's
                  bootstrap gamma V(final_obs) on top of r.
    discriminator n_disc_updates Adam steps (disc_learning_rate) on binary cross-entropy, expert label 1:
                  L_D = -mean_E log D(s_E, a_E) - mean_G log(1 - D(s_G, a_G))
                  over demo_batch_size expert transitions and as many of this rollout's (after relabelling,
                  so the rewards come from the discriminator the rollout was collected against)
    generator     PPO's clipped surrogate on those advantages (its own hyperparameters)

bc_warm_start > 0: that many gradient steps of behaviour cloning (maximum likelihood, -mean log pi(a_E|s_E),
the objective of `rl.bc`) on the PPO policy before the first rollout. The discriminator lives in the policy
(`policy.discriminator`), so agent files hold it; its optimizer is saved as params["discriminator.optimizer"].
The expert data (`demonstrations`: a dataset id or folder, or a loaded `rl.data` dataset) is not saved.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import corenn
from corenn import nn, optim
from corenn.nn import functional as F
from corenn.nn.utils import clip_grad_norm_

from ..core.networks import FusedMLP
from ..core.offline_learning import check_dataset_spaces
from ..core.validation import check_finite_scalar, check_hyperparameters, constructor_args
from ..data.dataset_argument import as_flat_dataset
from ..policy_gradient.policies import ActorCriticPolicy
from ..policy_gradient.ppo import PPO

__all__ = ["GAIL", "Discriminator", "gail_reward", "discriminator_loss"]


def gail_reward(logits: np.ndarray) -> np.ndarray:
    """-log(1 - D) = softplus(logits) for D = sigmoid(logits) (expert-is-high logits), computed stably."""
    return np.logaddexp(0.0, np.asarray(logits, np.float32)).astype(np.float32)


def discriminator_loss(expert_logits: corenn.Tensor, policy_logits: corenn.Tensor) -> corenn.Tensor:
    """Binary cross-entropy with the expert labelled 1: mean_E softplus(-f) + mean_G softplus(f)."""
    ones, zeros = np.ones(expert_logits.shape, np.float32), np.zeros(policy_logits.shape, np.float32)
    return F.binary_cross_entropy_with_logits(expert_logits, ones) + \
        F.binary_cross_entropy_with_logits(policy_logits, zeros)


class Discriminator(nn.Module):
    """f(s, a): features (B, F) and encoded actions (B, A') -> logits (B,); D = sigmoid(f) = P(expert | s, a)."""

    def __init__(self, features_dim: int, action_space: gym.Space, net_arch=(64, 64)):
        super().__init__()
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        self.action_dim = int(action_space.n) if self.discrete else int(np.prod(action_space.shape))
        if not self.discrete:
            low, high = action_space.low.astype(np.float32), action_space.high.astype(np.float32)
            self._low, self._high = low, high
            self._center, self._half = (high + low) / 2, (high - low) / 2
        self.net = FusedMLP(int(features_dim) + self.action_dim, 1, list(net_arch), "relu")

    def encode_actions(self, actions: np.ndarray) -> np.ndarray:
        """Env actions -> (B, A'): one-hot (Discrete), or clipped to the bounds and scaled to [-1, 1] (Box)."""
        if self.discrete:
            return np.eye(self.action_dim, dtype=np.float32)[np.asarray(actions, np.int64).reshape(-1)]
        a = np.asarray(actions, np.float32).reshape(-1, self.action_dim)
        return (np.clip(a, self._low, self._high) - self._center) / self._half

    def forward(self, features: np.ndarray, actions: np.ndarray) -> corenn.Tensor:
        x = np.concatenate([np.asarray(features, np.float32), self.encode_actions(actions)], axis=1)
        return self.net(corenn.Tensor(x)).reshape(-1)


class GAIL(PPO):
    """GAIL with a PPO generator (SB3-shaped: constructor, learn, predict, save/load); see the module docstring.

    demonstrations: expert transitions (a dataset id or folder, an OfflineDataset or a FlatDataset), needed
    by learn() and not saved. The PPO arguments are PPO's; the discriminator's: demo_batch_size,
    n_disc_updates, disc_learning_rate, discriminator_net_arch; bc_warm_start: BC steps before training.
    """

    algo_name = "GAIL"
    policy_aliases = {"MlpPolicy": ActorCriticPolicy}
    _hparam_names = PPO._hparam_names + ("demo_batch_size", "n_disc_updates", "disc_learning_rate",
                                         "discriminator_net_arch", "bc_warm_start")

    def __init__(self, policy, env, demonstrations=None, learning_rate=3e-4, n_steps: int = 2048,
                 batch_size: int = 64, n_epochs: int = 10, gamma: float = 0.99, gae_lambda: float = 0.95,
                 clip_range=0.2, clip_range_vf=None, normalize_advantage: bool = True, ent_coef: float = 0.0,
                 vf_coef: float = 0.5, max_grad_norm: float = 0.5, use_sde: bool = False, sde_sample_freq: int = -1,
                 rollout_buffer_class=None, rollout_buffer_kwargs: dict | None = None, target_kl: float | None = None,
                 demo_batch_size: int = 128, n_disc_updates: int = 4, disc_learning_rate: float = 3e-4,
                 discriminator_net_arch=(64, 64), bc_warm_start: int = 0, stats_window_size: int = 100,
                 tensorboard_log: str | None = None, policy_kwargs: dict | None = None, verbose: int = 0,
                 seed: int | None = None, device: str = "auto", normalize: bool | dict = False, n_envs: int = 1,
                 blas_num_threads: int | str | None = "auto", _init_setup_model: bool = True):
        check_hyperparameters("GAIL", constructor_args(locals()))
        super().__init__(policy, env, learning_rate=learning_rate, n_steps=n_steps, batch_size=batch_size,
                         n_epochs=n_epochs, gamma=gamma, gae_lambda=gae_lambda, clip_range=clip_range,
                         clip_range_vf=clip_range_vf, normalize_advantage=normalize_advantage, ent_coef=ent_coef,
                         vf_coef=vf_coef, max_grad_norm=max_grad_norm, use_sde=use_sde,
                         sde_sample_freq=sde_sample_freq, rollout_buffer_class=rollout_buffer_class,
                         rollout_buffer_kwargs=rollout_buffer_kwargs, target_kl=target_kl,
                         stats_window_size=stats_window_size, tensorboard_log=tensorboard_log,
                         policy_kwargs=policy_kwargs, verbose=verbose, seed=seed, device=device, normalize=normalize,
                         n_envs=n_envs, blas_num_threads=blas_num_threads, _init_setup_model=False)
        self.demo_batch_size, self.n_disc_updates = int(demo_batch_size), int(n_disc_updates)
        self.disc_learning_rate = float(disc_learning_rate)
        self.discriminator_net_arch = [int(w) for w in discriminator_net_arch]
        self.bc_warm_start = int(bc_warm_start)
        self.demonstrations = None
        if demonstrations is not None:
            self.set_demonstrations(demonstrations)
        if _init_setup_model:
            self._setup_model()

    # ------------------------------------------------------------------ setup
    def _setup_model(self) -> None:
        super()._setup_model()
        if self.preprocessor.raw:
            raise ValueError("GAIL's discriminator reads flat observation features; image or Dict observations "
                             "(CnnPolicy, MultiInputPolicy) are not supported")
        self.policy.discriminator = Discriminator(self.preprocessor.features_dim, self.action_space,
                                                  self.discriminator_net_arch)
        self.discriminator_optimizer = optim.Adam(list(self.policy.discriminator.parameters()),
                                                  lr=self.disc_learning_rate)
        self._bc_done = False

    @property
    def discriminator(self) -> Discriminator:
        return self.policy.discriminator

    def _policy_optimizers(self) -> dict:
        return {"policy.optimizer": self.policy.optimizer, "discriminator.optimizer": self.discriminator_optimizer}

    def set_demonstrations(self, demonstrations) -> None:
        """Imitate these expert transitions from now on (their spaces must be the agent's)."""
        data = as_flat_dataset(demonstrations)
        if hasattr(self, "observation_space"):
            check_dataset_spaces(data, self.observation_space, self.action_space, whose="demonstrations'")
        self.demonstrations = data

    def _expert_batch(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        batch = self.demonstrations.sample(size, self.rng)
        return self._features(batch["observations"]), batch["actions"]

    # ------------------------------------------------------------------ discriminator and rewards
    def discriminator_logits(self, features: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """f(s, a) (B,) without a graph, for policy features (B, F) and env actions."""
        with corenn.no_grad():
            return self.discriminator(features, actions).data.copy()

    def train_discriminator(self, features: np.ndarray, actions: np.ndarray) -> dict:
        """n_disc_updates steps against this rollout's (features, actions) -> logged statistics."""
        stats = {"disc_loss": [], "disc_acc_expert": [], "disc_acc_policy": []}
        disc, opt, n = self.discriminator, self.discriminator_optimizer, len(features)
        for _ in range(self.n_disc_updates):
            exp_feats, exp_actions = self._expert_batch(self.demo_batch_size)
            idx = self.rng.integers(0, n, size=self.demo_batch_size)
            expert_logits, policy_logits = disc(exp_feats, exp_actions), disc(features[idx], actions[idx])
            loss = discriminator_loss(expert_logits, policy_logits)
            check_finite_scalar("discriminator loss", float(loss.data), self._n_updates, self.num_timesteps)
            opt.zero_grad()
            loss.backward()
            opt.step()
            stats["disc_loss"].append(float(loss.data))
            stats["disc_acc_expert"].append(float(np.mean(expert_logits.data > 0)))
            stats["disc_acc_policy"].append(float(np.mean(policy_logits.data < 0)))
        opt.zero_grad()
        return {k: float(np.mean(v)) for k, v in stats.items() if v}

    def _bootstrap_truncated(self, rewards, terminated, truncated, infos) -> None:
        before = rewards.copy()
        super()._bootstrap_truncated(rewards, terminated, truncated, infos)
        self._bootstrap_bonus[self.rollout_buffer.pos] = rewards - before  # gamma V(final_obs), kept on relabel

    def collect_rollouts(self, env, callback, rollout_buffer, n_rollout_steps: int) -> bool:
        """PPO's rollout, then: discriminator rewards replace the env's, GAE again, discriminator updates."""
        self._bootstrap_bonus = np.zeros((rollout_buffer.n_steps, rollout_buffer.n_envs), np.float32)
        if not super().collect_rollouts(env, callback, rollout_buffer, n_rollout_steps):
            return False
        flat = rollout_buffer.flat()
        features, actions = flat.observations, flat.actions
        env_rewards = rollout_buffer.rewards - self._bootstrap_bonus
        rewards = gail_reward(self.discriminator_logits(features, actions)).reshape(rollout_buffer.rewards.shape)
        rollout_buffer.rewards[...] = rewards + self._bootstrap_bonus
        rollout_buffer.compute_returns_and_advantage(rollout_buffer.last_values, rollout_buffer.last_dones)
        stats = self.train_discriminator(features, actions) if self.n_disc_updates else {}
        for key, value in stats.items():
            self.logger.record(f"train/{key}", value)
        self.logger.record("rollout/gail_reward_mean", float(rewards.mean()))
        self.logger.record("rollout/env_reward_mean", float(env_rewards.mean()))
        return True

    def _start_train(self):
        clip_range, clip_range_vf, params, stats = super()._start_train()
        disc = {id(p) for p in self.discriminator.parameters()}
        return clip_range, clip_range_vf, [p for p in params if id(p) not in disc], stats

    # ------------------------------------------------------------------ BC warm start and learn
    def behaviour_cloning(self, n_steps: int) -> float:
        """n_steps of maximum likelihood on the demonstrations (-mean log pi(a_E|s_E)); returns the last loss."""
        policy, loss_value = self.policy, float("nan")
        params = [p for p in policy.parameters() if id(p) not in {id(q) for q in self.discriminator.parameters()}]
        if self.obs_normalizer is not None:  # the expert's observations prime the statistics
            self.obs_normalizer.update_obs(self.preprocessor(self.demonstrations.observations, batched=True))
        policy.train(True)
        for i in range(int(n_steps)):
            feats, actions = self._expert_batch(self.demo_batch_size)
            _, log_prob, _ = policy.evaluate_actions(feats, actions, entropy_grad=False)
            loss = -log_prob.mean()
            loss_value = check_finite_scalar("behaviour cloning loss", float(loss.data), i, self.num_timesteps)
            policy.optimizer.zero_grad()
            loss.backward()
            clip_grad_norm_(params, self.max_grad_norm)
            policy.optimizer.step()
        self.logger.record("train/bc_loss", loss_value)
        return loss_value

    def learn(self, total_timesteps: int, callback=None, log_interval: int = 1, tb_log_name: str = "GAIL",
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        """PPO's learn on the discriminator's reward (env steps), after the BC warm start on the first call."""
        if self.demonstrations is None:
            raise ValueError("GAIL.learn needs expert demonstrations: GAIL(..., demonstrations=ID|PATH) or "
                             "model.set_demonstrations(...)")
        if self.bc_warm_start and not self._bc_done and self.num_timesteps == 0:
            self.behaviour_cloning(self.bc_warm_start)
            self._bc_done = True
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps, progress_bar)

    @classmethod
    def load(cls, path, env=None, demonstrations=None, device: str = "auto", custom_objects: dict | None = None,
             print_system_info: bool = False, force_reset: bool = True, **kwargs):
        """A GAIL agent from a file written by `save` (checked as every agent file is); `demonstrations` to
        train on further."""
        model = super().load(path, env=env, device=device, custom_objects=custom_objects,
                             print_system_info=print_system_info, force_reset=force_reset, **kwargs)
        model._bc_done = True
        if demonstrations is not None:
            model.set_demonstrations(demonstrations)
        return model
