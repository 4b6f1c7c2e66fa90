"""Model-Based Policy Optimisation (Janner et al. 2019), laid out as mbrl-lib's `mbrl/algorithms/mbpo.py`.

The loop (`learn`), one env step at a time:
    1. act in the env (uniformly at random for the first `learning_starts` steps), store in the real buffer D_env
    2. every `model_train_freq` steps after that: fit the ensemble p(s' - s, r | s, a) on all of D_env
       (`ensemble.fit_ensemble`), then branch `rollouts_per_step * model_train_freq` rollouts of
       k steps from states drawn from D_env with the current policy, into the model buffer D_model;
       k = truncated_linear(rollout_schedule, epoch + 1), epoch = steps after learning_starts // epoch_length
    3. `num_sac_updates_per_step` SAC updates (`SAC.train`, unchanged) on batches with a fraction
       `real_data_ratio` of rows from D_env and the rest from D_model

D_model holds rollout_length * rollouts_per_step * model_train_freq * ceil(epoch_length / model_train_freq)
* model_retain_epochs transitions (the newest), grown when the rollout length grows. Model rollouts end
a row at the first done of a known termination function (`termination.py`). Differences from mbrl-lib:
the first `learning_starts` actions are uniform random (SB3) rather than the untrained policy's,
num_timesteps counts those steps, and the model is first fitted at the first step after them.

Files: the ensemble's weights, normaliser and elites sit in the policy (`policy.dynamics_model`) and its
Adam state in `dynamics_model.optimizer`, so `save`/`load` carry them. `save_replay_buffer` writes the
real buffer and D_model into one file and `load_replay_buffer` restores both, so a run continued from a
checkpoint with its buffer file (`python -m rl train -i ...`) resumes faithfully.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np

import corenn
from corenn import optim

from ..core.checkpoint import CheckpointError, save_agent, space_to_json
from ..core.off_policy_algorithm import TrainFreq
from ..core.preprocessing import is_image_space
from ..core.validation import MAX_BUFFER_SIZE, MBPO_RULES, check_value, constructor_args
from ..off_policy_actor_critic.policies import SACPolicy
from ..off_policy_actor_critic.sac import SAC
from .ensemble import FitResult, ProbabilisticEnsemble, fit_ensemble
from .model_env import ModelEnv, ModelReplayBuffer
from .termination import termination_fn_for

__all__ = ["MBPO", "MBPOPolicy", "MBPO_RULES", "truncated_linear"]

# MBPO's own hyperparameters and what each accepts (SAC's are checked by SAC's rules)
_SAC_ONLY = ("train_freq", "gradient_steps", "optimize_memory_usage", "replay_buffer_kwargs")


def truncated_linear(min_x: float, max_x: float, min_y: float, max_y: float, x: float) -> float:
    """min_y until x = min_x, linear to max_y at x = max_x, then max_y (max_y when max_x <= min_x)."""
    if max_x - min_x < 1e-10:
        return max_y
    return min_y + min(max(x - min_x, 0.0) / (max_x - min_x), 1.0) * (max_y - min_y)


def _check_rollout_schedule(value) -> list:
    ok = isinstance(value, (list, tuple)) and len(value) == 4 and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0 for v in value)
    if not ok or value[2] < 1 or value[3] < 1 or value[3] > 10_000:
        raise ValueError("rollout_schedule must be [min_epoch, max_epoch, min_length, max_length] of ints >= 0 "
                         f"with lengths in [1, 10000], got {value!r}")
    return [int(v) for v in value]


class MBPOPolicy(SACPolicy):
    """SAC's policy; MBPO attaches its dynamics ensemble as `dynamics_model` so that agent files carry it.

    `save` writes the acting part only, as a SACPolicy file (`SACPolicy.load` reads it)."""

    def save(self, path) -> str:
        state = {k: v for k, v in self.state_dict().items() if not k.startswith("dynamics_model.")}
        meta = {"algo": "policy", "policy": SACPolicy.__name__,
                "observation_space": space_to_json(self.observation_space),
                "action_space": space_to_json(self.action_space), "policy_kwargs": self.config()}
        return save_agent(path, {"policy": state}, meta)


class MBPO(SAC):
    """MBPO for Box actions and flat Box observations. SB3-shaped: MBPO("MlpPolicy", env).learn(n).

    Defaults: mbrl-lib's algorithm/mbpo.yaml with overrides/mbpo_hopper.yaml (40 SAC updates per step,
    model every 250 steps, 400 rollouts per step, schedule [20, 150, 1, 15], alpha 0.2,
    target_update_interval 4); `rl/hyperparams/mbpo.yml` holds the per-env settings.
    termination_fn: a name in rl.model_based.termination.TERMINATION_FNS, or None to look it up by env id.
    """

    algo_name = "MBPO"
    policy_aliases = {"MlpPolicy": MBPOPolicy}
    _hparam_names = tuple(n for n in SAC._hparam_names if n not in _SAC_ONLY) + tuple(MBPO_RULES)

    def __init__(self, policy, env, learning_rate=3e-4, buffer_size: int = 1_000_000, learning_starts: int = 5000,
                 batch_size: int = 256, tau: float = 0.005, gamma: float = 0.99, action_noise=None, ent_coef=0.2,
                 target_update_interval: int = 4, target_entropy="auto", model_train_freq: int = 250,
                 epoch_length: int = 1000, rollouts_per_step: int = 400, rollout_schedule=(20, 150, 1, 15),
                 num_sac_updates_per_step: int = 40, real_data_ratio: float = 0.0, model_retain_epochs: int = 1,
                 ensemble_size: int = 7, num_elites: int = 5, dynamics_hidden_size: int = 200,
                 dynamics_num_layers: int = 4, learn_logvar_bounds: bool = True, model_learning_rate: float = 1e-3,
                 model_weight_decay: float = 1e-5, model_batch_size: int = 256, model_holdout_ratio: float = 0.2,
                 model_patience: int = 5, model_max_epochs: int | None = None, termination_fn: str | None = None,
                 stats_window_size: int = 100, tensorboard_log: str | None = None, policy_kwargs: dict | None = None,
                 verbose: int = 0, seed: int | None = None, device: str = "auto", normalize: bool | dict = False,
                 n_envs: int = 1, blas_num_threads: int | str | None = "auto", _init_setup_model: bool = True):
        args = constructor_args(locals())
        for name, rule in MBPO_RULES.items():
            check_value(name, args[name], rule)
        self.rollout_schedule = _check_rollout_schedule(rollout_schedule)
        if num_elites > ensemble_size:
            raise ValueError(f"num_elites must be <= ensemble_size ({ensemble_size}), got {num_elites}")
        super().__init__(policy, env, learning_rate=learning_rate, buffer_size=buffer_size,
                         learning_starts=learning_starts, batch_size=batch_size, tau=tau, gamma=gamma, train_freq=1,
                         gradient_steps=num_sac_updates_per_step, action_noise=action_noise, ent_coef=ent_coef,
                         target_update_interval=target_update_interval, target_entropy=target_entropy,
                         stats_window_size=stats_window_size, tensorboard_log=tensorboard_log,
                         policy_kwargs=policy_kwargs, verbose=verbose, seed=seed, device=device, normalize=normalize,
                         n_envs=n_envs, blas_num_threads=blas_num_threads, _init_setup_model=False)
        self.model_train_freq, self.epoch_length = int(model_train_freq), int(epoch_length)
        self.rollouts_per_step, self.num_sac_updates_per_step = int(rollouts_per_step), int(num_sac_updates_per_step)
        self.real_data_ratio, self.model_retain_epochs = float(real_data_ratio), int(model_retain_epochs)
        self.ensemble_size, self.num_elites = int(ensemble_size), int(num_elites)
        self.dynamics_hidden_size, self.dynamics_num_layers = int(dynamics_hidden_size), int(dynamics_num_layers)
        self.learn_logvar_bounds = bool(learn_logvar_bounds)
        self.model_learning_rate, self.model_weight_decay = float(model_learning_rate), float(model_weight_decay)
        self.model_batch_size, self.model_holdout_ratio = int(model_batch_size), float(model_holdout_ratio)
        self.model_patience = int(model_patience)
        self.model_max_epochs = None if model_max_epochs is None else int(model_max_epochs)
        self.termination_fn = termination_fn
        if _init_setup_model:
            self._setup_model()

    # ------------------------------------------------------------------ setup
    def _check_spaces(self) -> None:
        super()._check_spaces()
        space = self.observation_space
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1 or is_image_space(space):
            raise ValueError(f"MBPO's dynamics model reads flat Box observations (obs_dim,), got {space}")

    def _setup_model(self) -> None:
        super()._setup_model()
        obs_dim, act_dim = self.observation_space.shape[0], self.action_space.shape[0]
        self.dynamics_model = ProbabilisticEnsemble(obs_dim + act_dim, obs_dim + 1, self.ensemble_size,
                                                    self.num_elites, self.dynamics_hidden_size,
                                                    self.dynamics_num_layers, self.learn_logvar_bounds)
        self.dynamics_model.optimizer = optim.Adam(self.dynamics_model.trainable_parameters(),
                                                   lr=self.model_learning_rate, weight_decay=self.model_weight_decay)
        self.policy.dynamics_model = self.dynamics_model  # its weights and buffers travel in policy.state_dict()
        self.model_env = ModelEnv(self.dynamics_model, termination_fn_for(self.termination_fn, self.env_id))
        self.model_buffer = ModelReplayBuffer(self.model_buffer_capacity(), self.observation_space, self.action_space)

    def _policy_optimizers(self) -> dict:
        return {**super()._policy_optimizers(), "dynamics_model.optimizer": self.dynamics_model.optimizer}

    # ------------------------------------------------------------------ schedule
    def _steps_after_start(self) -> int:
        return self.num_timesteps - self.learning_starts

    def rollout_length(self) -> int:
        """k for the current epoch: truncated_linear(*rollout_schedule, epoch + 1)."""
        epoch = max(self._steps_after_start() - 1, 0) // self.epoch_length
        return int(truncated_linear(*self.rollout_schedule, epoch + 1))

    def model_buffer_capacity(self) -> int:
        """Transitions D_model keeps: rollout_length * rollouts per training * trainings per epoch * epochs."""
        per_training = self.rollouts_per_step * self.model_train_freq
        trainings = math.ceil(self.epoch_length / self.model_train_freq)
        size = self.rollout_length() * per_training * trainings * self.model_retain_epochs
        if size > MAX_BUFFER_SIZE:
            raise ValueError(f"the model buffer would hold {size:,} transitions (rollout length x rollouts_per_step x "
                             f"model_train_freq x ...), over the limit of {MAX_BUFFER_SIZE:,}")
        return size

    def _model_training_due(self) -> bool:
        """True on the first step after learning_starts and then every model_train_freq steps."""
        now, before = self._steps_after_start() - 1, self._steps_after_start() - self.n_envs - 1
        return now >= 0 and now // self.model_train_freq > before // self.model_train_freq

    # ------------------------------------------------------------------ the loop
    def learn(self, total_timesteps: int, callback=None, log_interval: int = 4, tb_log_name: str = "MBPO",
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        total_timesteps, callback = self._setup_learn(total_timesteps, callback, reset_num_timesteps, tb_log_name,
                                                      progress_bar)
        callback.on_training_start(locals(), globals())
        one_step = TrainFreq(1, "step")
        try:
            with self._learning_threads() as recheck_threads:
                while self.num_timesteps < total_timesteps:
                    # 1. one env step into the real replay buffer
                    rollout = self.collect_rollouts(self.env, callback, one_step, self.action_noise,
                                                    self.learning_starts, log_interval)
                    if not rollout.continue_training:
                        break
                    if self.num_timesteps <= self.learning_starts:
                        continue
                    # 2. fit the model on all real data, then fill the model buffer with branched rollouts
                    if self._model_training_due():
                        self.train_dynamics_model()
                        self.rollout_model()
                    # 3. SAC updates on mixed real / model batches
                    recheck_threads()
                    self.train(gradient_steps=self.num_sac_updates_per_step * self.n_envs,
                               batch_size=self.batch_size)
        finally:
            callback.on_training_end()
        return self

    def train_dynamics_model(self) -> FitResult:
        """Fit the ensemble to (s, a) -> (s' - s, r) over the whole real replay buffer."""
        rb, n = self.replay_buffer, self.replay_buffer.size()
        obs = rb.observations[:n].reshape(n * rb.n_envs, -1)
        next_obs = rb.next_observations[:n].reshape(n * rb.n_envs, -1)
        inputs = np.concatenate([obs, rb.actions[:n].reshape(n * rb.n_envs, -1)], axis=1)
        targets = np.concatenate([next_obs - obs, rb.rewards[:n].reshape(-1, 1)], axis=1)
        opt = self.dynamics_model.optimizer
        for group in opt.param_groups:  # SAC.train sets every optimizer's lr to SAC's
            group["lr"] = self.model_learning_rate
        result = fit_ensemble(self.dynamics_model, opt, inputs, targets, self.rng, self.model_batch_size,
                              self.model_holdout_ratio, self.model_patience, self.model_max_epochs)
        self.logger.record("model/train_loss", result.train_loss)
        self.logger.record("model/val_mse", float(np.mean(result.val_mse[self.dynamics_model.elites])))
        self.logger.record("model/val_nll", float(np.mean(result.val_nll[self.dynamics_model.elites])))
        self.logger.record("model/epochs", result.epochs)
        return result

    def rollout_model(self) -> int:
        """Branch rollouts_per_step * model_train_freq rollouts of rollout_length() steps into the model buffer."""
        length = self.rollout_length()
        self.model_buffer = self.model_buffer.resized(self.model_buffer_capacity())
        start = self.replay_buffer.sample(self.rollouts_per_step * self.model_train_freq, self.rng).observations

        def act(obs: np.ndarray) -> np.ndarray:
            return self.policy.act(self._features(obs), deterministic=False, rng=self.rng)

        stored = self.model_env.rollout(start, length, act, self.model_buffer, self.rng)
        self.logger.record("model/rollout_length", length)
        self.logger.record("model/rollout_transitions", stored)
        self.logger.record("model/buffer_size", self.model_buffer.size())
        return stored

    def _sample_batch(self, batch_size: int):
        """A SAC batch: round(real_data_ratio * B) rows from the real buffer, the rest from the model buffer
        (all real while the model buffer is empty); same layout as OffPolicyAlgorithm._sample_batch."""
        n_real = batch_size if self.model_buffer.size() == 0 else int(round(batch_size * self.real_data_ratio))
        parts = [buf.sample(n, self.rng) for buf, n in ((self.replay_buffer, n_real),
                                                        (self.model_buffer, batch_size - n_real)) if n > 0]
        obs, actions, next_obs, dones, rewards = (np.concatenate(field) for field in zip(*parts))
        rewards = rewards.reshape(-1)
        if self.obs_normalizer is not None:
            rewards = self.obs_normalizer.normalize_reward(rewards)
        return self._features(obs), actions, self._features(next_obs), rewards, dones.reshape(-1)

    # ------------------------------------------------------------------ checkpoints
    def _hyperparameters(self) -> dict:
        hp = super()._hyperparameters()
        for name in ("train_freq", "replay_buffer_class"):
            hp.pop(name, None)
        return hp

    def save_replay_buffer(self, path) -> str:
        """Write the real replay buffer and the model buffer to one .npz (corenn.save). Returns the path."""
        path = str(path) if str(path).endswith(".npz") else f"{path}.npz"
        corenn.save({"format": "corenn-replay-buffer", "algo": self.algo_name, "state": self.replay_buffer.state_dict(),
                     "model_buffer": self.model_buffer.state_dict()}, path)
        return path

    def load_replay_buffer(self, path) -> None:
        """Restore both buffers from `save_replay_buffer`'s file; everything is checked before either changes."""
        path = str(path)
        if not path.endswith(".npz"):
            path += ".npz"

        def check(skeleton) -> None:  # declared shapes, before any array is read
            if not isinstance(skeleton, dict) or skeleton.get("format") != "corenn-replay-buffer" \
                    or not isinstance(skeleton.get("model_buffer"), dict):
                raise CheckpointError(f"{path} is not a buffer file written by MBPO.save_replay_buffer")
            rows = getattr(skeleton["model_buffer"].get("observations"), "shape", (MAX_BUFFER_SIZE + 1,))
            if len(rows) != 3 or rows[0] > MAX_BUFFER_SIZE:
                raise CheckpointError(f"{path}: model_buffer/observations must be (n <= {MAX_BUFFER_SIZE:,}, 1, "
                                      "obs_dim)")
            try:
                self.replay_buffer.check_state(skeleton["state"])
            except ValueError as e:
                raise CheckpointError(f"{path}: {e}") from None

        try:
            data = corenn.load(path, check=check)
        except CheckpointError:
            raise
        except corenn.CheckpointError as e:
            raise CheckpointError(f"{path} is truncated, corrupted or not a buffer file: {e}") from e
        model_state = data["model_buffer"]
        try:
            saved_size = int(np.asarray(model_state["buffer_size"]))
            if not 1 <= saved_size <= MAX_BUFFER_SIZE:
                raise ValueError(f"model buffer size {saved_size} is outside [1, {MAX_BUFFER_SIZE:,}]")
            model_buffer = ModelReplayBuffer(saved_size, self.observation_space, self.action_space)
            model_buffer.check_state(model_state)
            self.replay_buffer.check_state(data["state"])
        except (ValueError, KeyError, TypeError) as e:
            raise CheckpointError(f"{path}: {e}") from None
        self.replay_buffer.load_state_dict(data["state"])
        model_buffer.load_state_dict(model_state)
        self.model_buffer = model_buffer.resized(max(saved_size, self.model_buffer_capacity()))
