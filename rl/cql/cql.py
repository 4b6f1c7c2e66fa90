"""Conservative Q-Learning (Kumar et al. 2020), the SAC-based CQL(H) variant, offline from a dataset.

SAC's actor, twin critics, target critics and entropy coefficient (`rl.off_policy_actor_critic`), trained on
minibatches of a dataset's transitions (s, a, r, s', d) instead of a replay buffer; actions a in [-1, 1].
One gradient step on B transitions, E critics, N = n_action_samples, A = action dim:

    y            = r + gamma (1 - d) [min_i Q'_i(s', a') (- alpha log pi(a'|s') if backup_entropy)], a' ~ pi(.|s')
    td loss      = sum_i mean_B (Q_i(s, a) - y)^2
    sampled      a_unif ~ U[-1, 1]^A,  a_pi ~ pi(.|s),  a'_pi ~ pi(.|s')       N of each per state, no gradient
    CQL(H)       lse_i(s) = T log sum_j exp(x_ij / T) over the 3N sampled actions j, with importance weights
                 x_ij = Q_i(s, a_j) - log mu(a_j): log mu = A log(1/2) (uniform), log pi(a_pi|s), log pi(a'_pi|s')
                 (importance_sampling=False: x_ij = Q_i(s, a_j), and Q_i(s, a) joins the 3N)
                 gap_i = mean_B (lse_i(s) - Q_i(s, a))          "OOD Q minus dataset Q"
    critic loss  = td loss + cql_alpha * sum_i gap_i                                       (lagrange=False)
                 = td loss + alpha' cql_alpha * sum_i (gap_i - target_action_gap)           (lagrange=True)
    alpha'       = exp(log_alpha'), one Adam step on -alpha' cql_alpha * mean_i (gap_i - target_action_gap)
                 (gap constant): alpha' grows while the gap is above target_action_gap and shrinks below it
    actor loss   = mean_B (alpha log pi(a~|s) - min_i Q_i(s, a~))    (critics frozen)
                 = mean_B (alpha log pi(a~|s) - log pi(a|s))         for the first bc_steps updates
    entropy      SAC's: ent_coef loss = -mean_B(log alpha (log pi(a~|s) + target_entropy))
    target       polyak(tau) every target_update_interval updates

Defaults are CORL's settings for D4RL MuJoCo (its cql.py and hopper/medium_replay_v2.yaml): critic lr 3e-4,
actor (and entropy) lr 3e-5, batch 256, N = 10, cql_alpha 10, temperature 1, importance sampling on, no
Lagrange, no entropy in the backup, critics of 3 x 256 and actors of 2 x 256 hidden units (CORL's actor has
3; set policy_kwargs=dict(net_arch=dict(pi=[256, 256, 256], qf=[256, 256, 256])) for it exactly). CORL's
clamp of the gap (cql_clip_diff_min/max, infinite by default) and max-target backup are left out.
`learn(n)` runs n gradient steps (num_timesteps counts them); the env, when given, only fixes the spaces
and lets callbacks evaluate. With `normalize`, the observation statistics are the dataset's (D4RL's
state normalisation), set once at the first learn().
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np

import corenn
from corenn import nn, optim
from corenn.nn import functional as F
from corenn.nn.functional import take_min

from ..core.offline_learning import OfflineLearning, check_dataset_spaces
from ..core.policies import extract
from ..core.polyak import polyak_update
from ..core.schedules import schedule_to_json
from ..core.validation import check_finite_scalar, check_hyperparameters, constructor_args
from ..data.dataset_argument import as_flat_dataset
from ..off_policy_actor_critic.policies import LOG_STD_MAX, LOG_STD_MIN, SACPolicy
from ..off_policy_actor_critic.sac import SAC

__all__ = ["CQL", "CQLPolicy", "as_flat_dataset", "cql_gap"]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class CQLPolicy(SACPolicy):
    """SACPolicy (tanh-Gaussian actor, twin critics, targets) plus log_alpha_prime (1,), CQL's Lagrange
    multiplier (used only with lagrange=True; kept with the weights so it is saved and restored).
    CQL's default net_arch is dict(pi=[256, 256], qf=[256, 256, 256])."""

    def _default_arch(self):
        return {"pi": [256, 256], "qf": [256, 256, 256]}

    def __init__(self, observation_space, action_space, lr_schedule, **kwargs):
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)
        self.log_alpha_prime = nn.Parameter(np.zeros(1, np.float32))


def cql_gap(q_sampled: corenn.Tensor, q_data: corenn.Tensor, log_density: np.ndarray, temperature: float,
            importance_sampling: bool) -> corenn.Tensor:
    """CQL(H)'s gap_i = mean_B(T logsumexp_j((Q_i(s, a_j) - log mu(a_j)) / T) - Q_i(s, a)) -> (E,).

    q_sampled: (E, B, M) Q of M sampled actions per state; q_data: (E, B) Q of the dataset actions;
    log_density: (B, M) log mu(a_j) of the samples (used with importance_sampling; without it the dataset
    action's Q joins the M values unweighted)."""
    if importance_sampling:
        x = q_sampled - corenn.Tensor(np.asarray(log_density, q_sampled.data.dtype)[None])
    else:
        x = corenn.cat([q_sampled, q_data.reshape(*q_data.shape, 1)], axis=2)
    lse = (x * (1.0 / temperature)).logsumexp(axis=2) * temperature  # (E, B)
    return (lse - q_data).mean(axis=1)


class CQL(OfflineLearning, SAC):
    """CQL(H) on SAC (SB3-shaped: constructor, learn, predict, save/load). See the module docstring.

    dataset: a Minari dataset id or folder, an `OfflineDataset` or a `FlatDataset` (`rl.data`), needed by
    learn() and not saved with the agent; env: optional (spaces, evaluation). learning_rate: critics and
    alpha'; policy_learning_rate: actor and entropy coefficient. cql_alpha: the conservative weight;
    lagrange=True tunes alpha' so that the gap approaches target_action_gap (the paper's CQL-Lagrange).
    """

    algo_name = "CQL"
    policy_aliases = {"MlpPolicy": CQLPolicy}
    supported_action_spaces = (gym.spaces.Box,)
    _hparam_names = ("learning_rate", "policy_learning_rate", "batch_size", "tau", "gamma", "ent_coef",
                     "target_update_interval", "target_entropy", "n_action_samples", "cql_alpha", "cql_temperature",
                     "importance_sampling", "lagrange", "target_action_gap", "backup_entropy", "bc_steps",
                     "blas_num_threads")

    def __init__(self, policy, env=None, dataset=None, learning_rate=3e-4, policy_learning_rate: float = 3e-5,
                 batch_size: int = 256, tau: float = 0.005, gamma: float = 0.99, ent_coef="auto",
                 target_update_interval: int = 1, target_entropy="auto", n_action_samples: int = 10,
                 cql_alpha: float = 10.0, cql_temperature: float = 1.0, importance_sampling: bool = True,
                 lagrange: bool = False, target_action_gap: float = -1.0, backup_entropy: bool = False,
                 bc_steps: int = 0, stats_window_size: int = 100, tensorboard_log: str | None = None,
                 policy_kwargs: dict | None = None, verbose: int = 0, seed: int | None = None, device: str = "auto",
                 normalize: bool | dict = False, n_envs: int = 1, blas_num_threads: int | str | None = "auto",
                 _init_setup_model: bool = True):
        check_hyperparameters("CQL", constructor_args(locals()))  # lagrange=True needs target_action_gap >= 0
        self.dataset = as_flat_dataset(dataset)
        super().__init__(policy, env, learning_rate=learning_rate, buffer_size=1, learning_starts=0,
                         batch_size=batch_size, tau=tau, gamma=gamma, ent_coef=ent_coef,
                         target_update_interval=target_update_interval, target_entropy=target_entropy,
                         stats_window_size=stats_window_size, tensorboard_log=tensorboard_log,
                         policy_kwargs=policy_kwargs, verbose=verbose, seed=seed, device=device, normalize=normalize,
                         n_envs=n_envs, blas_num_threads=blas_num_threads, _init_setup_model=False)
        self.policy_learning_rate = float(policy_learning_rate)
        self.n_action_samples, self.cql_alpha = int(n_action_samples), float(cql_alpha)
        self.cql_temperature, self.importance_sampling = float(cql_temperature), bool(importance_sampling)
        self.lagrange, self.target_action_gap = bool(lagrange), float(target_action_gap)
        self.backup_entropy, self.bc_steps = bool(backup_entropy), int(bc_steps)
        self._use_dataset_spaces(env)
        if _init_setup_model:
            if not hasattr(self, "observation_space"):
                raise ValueError("CQL needs an env or a dataset to know its observation and action spaces")
            self._setup_model()

    # ------------------------------------------------------------------ setup
    def _setup_replay_buffer(self) -> None:
        self.replay_buffer = None  # offline: batches come from the dataset

    def _setup_model(self) -> None:
        super()._setup_model()
        for opt in (self.policy.actor.optimizer, self.ent_coef_optimizer):
            for group in getattr(opt, "param_groups", ()):
                group["lr"] = self.policy_learning_rate
        self.alpha_prime_optimizer = None
        if self.lagrange:
            self.alpha_prime_optimizer = optim.Adam([self.policy.log_alpha_prime], lr=self.lr_schedule(1.0))
        self._normalizer_from_dataset = False

    def _policy_optimizers(self) -> dict:
        opts = super()._policy_optimizers()
        if self.alpha_prime_optimizer is not None:
            opts["alpha_prime_optimizer"] = self.alpha_prime_optimizer
        return opts

    def _hyperparameters(self) -> dict:
        return {name: schedule_to_json(getattr(self, name), self._current_progress_remaining)
                for name in self._hparam_names}

    def _check_dataset(self, data) -> None:
        check_dataset_spaces(data, self.observation_space, self.action_space)
        ours, theirs = self.action_space, data.action_space
        if not (np.allclose(theirs.low, ours.low) and np.allclose(theirs.high, ours.high)):
            raise ValueError(f"the dataset's action bounds {theirs} differ from this agent's {ours}")

    @property
    def alpha_prime(self) -> float:
        """CQL's Lagrange multiplier exp(log_alpha') clipped to [0, 1e6] (1 until trained; used with lagrange)."""
        return float(np.clip(np.exp(float(self.policy.log_alpha_prime.data[0])), 0.0, 1e6))

    def _fit_normalizer(self) -> None:
        """Observation statistics from the whole dataset, once, when the normaliser has seen nothing."""
        norm = self.obs_normalizer
        if norm is None or self._normalizer_from_dataset or norm.obs_rms.count >= 1.0:
            return
        norm.obs_rms.update(self.preprocessor(self.dataset.observations, batched=True))
        self._normalizer_from_dataset = True

    # ------------------------------------------------------------------ training
    def _sample_batch(self, batch_size: int):
        """A dataset minibatch: (features, actions in [-1, 1], next features, rewards (B,), dones (B,))."""
        b = self.dataset.sample(batch_size, self.rng)
        rewards = b["rewards"].astype(np.float32)
        if self.obs_normalizer is not None:
            rewards = self.obs_normalizer.normalize_reward(rewards)
        return (self._features(b["observations"]), self.policy.scale_action(b["actions"]),
                self._features(b["next_observations"]), rewards, b["terminals"].astype(np.float32))

    def _dataset_log_prob(self, obs, actions: np.ndarray) -> corenn.Tensor:
        """log pi(a|s) (B,) of dataset actions a in [-1, 1] under the tanh-Gaussian actor (bc_steps)."""
        actor = self.policy.actor
        head = actor.net(extract(actor.features_extractor, actor.inputs, obs))
        n = actor.action_dim
        mean, log_std = head[:, :n], head[:, n:].clip(LOG_STD_MIN, LOG_STD_MAX)
        a = np.clip(actions, -1.0 + 1e-6, 1.0 - 1e-6)
        z = (corenn.Tensor(np.arctanh(a).astype(np.float32)) - mean) * (-log_std).exp()
        log_det = np.log(1.0 - a * a).sum(axis=1).astype(np.float32)
        return (z * z * -0.5 - log_std).sum(axis=1) - n * _HALF_LOG_2PI - corenn.Tensor(log_det)

    def _conservative_terms(self, obs, next_obs, q_data: corenn.Tensor):
        """(gap (E,) Tensor, mean Q of uniform actions, mean Q of policy actions) for this batch."""
        policy, rng, n = self.policy, self.rng, self.n_action_samples
        bsz, adim = q_data.shape[1], policy.action_dim
        with corenn.no_grad():
            obs_rep, next_rep = np.repeat(obs, n, axis=0), np.repeat(next_obs, n, axis=0)
            a_cur, lp_cur = policy.actor(obs_rep, rng=rng)
            a_next, lp_next = policy.actor(next_rep, rng=rng)
        a_unif = rng.uniform(-1.0, 1.0, size=(bsz, n, adim)).astype(np.float32)
        actions = np.concatenate([a_unif, a_cur.data.reshape(bsz, n, adim), a_next.data.reshape(bsz, n, adim)], 1)
        log_density = np.concatenate([np.full((bsz, n), adim * math.log(0.5), np.float32),
                                      lp_cur.data.reshape(bsz, n), lp_next.data.reshape(bsz, n)], axis=1)
        q_sampled = policy.critic(np.repeat(obs, 3 * n, axis=0), actions.reshape(-1, adim))
        q_sampled = q_sampled.reshape(policy.critic.n_critics, bsz, 3 * n)
        gap = cql_gap(q_sampled, q_data, log_density, self.cql_temperature, self.importance_sampling)
        return gap, float(q_sampled.data[:, :, :n].mean()), float(q_sampled.data[:, :, n:].mean())

    def _largest_matmul_macs(self) -> int:
        return super()._largest_matmul_macs() * 3 * self.n_action_samples  # the gap's sampled actions

    def train(self, gradient_steps: int, batch_size: int = 256) -> None:
        policy, rng, alpha = self.policy, self.rng, self.entropy_coefficient
        actor, critic, critic_target = policy.actor, policy.critic, policy.critic_target
        critic_opts = [critic.optimizer] + ([self.alpha_prime_optimizer] if self.lagrange else [])
        self._update_learning_rate(critic_opts)
        logs: dict[str, list] = {k: [] for k in ("ent_coef", "actor_loss", "critic_loss", "td_loss", "cql_gap",
                                                 "q_data", "q_uniform", "q_policy", "alpha_prime")}
        for _ in range(gradient_steps):
            obs, actions, next_obs, rewards, dones = self._sample_batch(batch_size)
            update, step = self._n_updates + 1, self.num_timesteps
            actions_pi, log_prob = actor(obs, rng=rng)  # (B, A), (B,)

            ent_coef = alpha.value
            if alpha.learned:
                ent_coef_loss = alpha.loss(log_prob.detach())
                check_finite_scalar("entropy coefficient loss", float(ent_coef_loss.data), update, step)
                alpha.optimizer.zero_grad()
                ent_coef_loss.backward()
                alpha.optimizer.step()

            with corenn.no_grad():
                next_actions, next_log_prob = actor(next_obs, rng=rng)
                next_q = critic_target(next_obs, next_actions).data.min(axis=0)
                if self.backup_entropy:
                    next_q = next_q - ent_coef * next_log_prob.data
                target_q = rewards + self.gamma * (1.0 - dones) * next_q

            q = critic(obs, actions)  # (E, B)
            td_loss = sum(F.mse_loss(q[i], target_q) for i in range(critic.n_critics))
            gap, q_unif, q_pi = self._conservative_terms(obs, next_obs, q)
            shift = self.target_action_gap if self.lagrange else 0.0
            weight = self.cql_alpha * (self.alpha_prime if self.lagrange else 1.0)
            critic_loss = td_loss + (gap - shift).sum() * weight
            check_finite_scalar("critic loss", float(critic_loss.data), update, step)
            if self.lagrange:  # alpha' rises while the gap is above target_action_gap
                log_ap = policy.log_alpha_prime
                ap_loss = -(log_ap.exp().clip(0.0, 1e6) * (self.cql_alpha * float(np.mean(gap.data - shift)))).sum()
                self.alpha_prime_optimizer.zero_grad()
                ap_loss.backward()
                self.alpha_prime_optimizer.step()
            critic.optimizer.zero_grad()
            critic_loss.backward()
            critic.optimizer.step()

            if self._n_updates < self.bc_steps:
                actor_loss = (log_prob * ent_coef - self._dataset_log_prob(obs, actions)).mean()
            else:
                critic.requires_grad_(False)  # only dQ/da flows back to the actor
                try:
                    actor_loss = (log_prob * ent_coef - take_min(critic(obs, actions_pi))).mean()
                finally:
                    critic.requires_grad_(True)
            check_finite_scalar("actor loss", float(actor_loss.data), update, step)
            actor.optimizer.zero_grad()
            actor_loss.backward()
            actor.optimizer.step()

            self._n_updates += 1
            if self._n_updates % self.target_update_interval == 0:
                polyak_update(self._critic_params, self._critic_target_params, self.tau)
            for key, value in (("ent_coef", ent_coef), ("actor_loss", float(actor_loss.data)),
                               ("critic_loss", float(critic_loss.data)), ("td_loss", float(td_loss.data)),
                               ("cql_gap", float(gap.data.mean())), ("q_data", float(q.data.mean())),
                               ("q_uniform", q_unif), ("q_policy", q_pi), ("alpha_prime", self.alpha_prime)):
                logs[key].append(value)
        for key, values in logs.items():  # averaged over the steps since the last dump
            if key != "alpha_prime" or self.lagrange:
                self.logger.record_mean(f"train/{key}", float(np.mean(values)))
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")

    def learn(self, total_timesteps: int, callback=None, log_interval: int = 1000, tb_log_name: str = "CQL",
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        """`total_timesteps` gradient steps on dataset minibatches; logs every `log_interval` steps."""
        total_timesteps, callback = self._setup_offline_learn(total_timesteps, callback, reset_num_timesteps,
                                                              tb_log_name, progress_bar)
        callback.on_training_start(locals(), globals())
        self._fit_normalizer()
        every = max(int(log_interval or 0), 1) if log_interval else self._total_timesteps + 1
        try:
            with self._learning_threads() as recheck_threads:
                while self.num_timesteps < self._total_timesteps:
                    self._update_current_progress_remaining(self.num_timesteps, self._total_timesteps)
                    recheck_threads()
                    self.train(gradient_steps=1, batch_size=self.batch_size)
                    self.num_timesteps += 1
                    if self._n_updates % 100 == 0:
                        self._flush_subnormal_optimizer_state()
                    callback.update_locals(locals())
                    if not callback.on_step():
                        break
                    if self.num_timesteps % every == 0 or self.num_timesteps == self._total_timesteps:
                        self._record_rollout_and_dump()
        finally:
            callback.on_training_end()
        return self

    @classmethod
    def load(cls, path, env=None, dataset=None, device: str = "auto", custom_objects: dict | None = None,
             print_system_info: bool = False, force_reset: bool = True, **kwargs):
        """A CQL agent from a file written by `save` (checked as every agent file is); `dataset` to train on."""
        model = super().load(path, env=env, device=device, custom_objects=custom_objects,
                             print_system_info=print_system_info, force_reset=force_reset, **kwargs)
        model._normalizer_from_dataset = model.obs_normalizer is not None
        if dataset is not None:
            model.set_dataset(dataset)
        return model
