"""BaseAlgorithm: what every agent shares (SB3's BaseAlgorithm shape).

Env setup (id / Env / vector env), space checks, seeding, observation preprocessing and
normalisation, logger and callback setup for `learn`, `predict` with shape/NaN validation, and
checkpoints (`save`, `load`, `get_parameters`, `set_parameters`). Subclasses set `algo_name`,
`policy_aliases`, `_hparam_names` (constructor arguments stored in checkpoints) and implement
`_setup_model` and `learn`.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np

import corenn

from . import resume_state
from .blas_threads import blas_threads, largest_matmul_macs
from .callbacks import CallbackList, ProgressBarCallback, convert_callback
from .checkpoint import (
    check_finite,
    check_space_matches,
    load_agent,
    save_agent,
    space_to_json,
    target_copy_keys,
    with_target_networks,
)
from .checkpoint_loading import check_file_arrays, load_model
from .checkpoint_tensors import check_params
from .logger import Logger, configure_logger
from .normalization import ObsNormalizer
from .policies import ObsPreprocessor, default_features_extractor, uses_raw_observations
from .preprocessing import predict_input
from .sb3_vec_env.adapters import sb3_view
from .sb3_vec_env.base import is_sb3_vec_env, unwrap_vec_normalize
from .schedules import get_schedule_fn, schedule_to_json
from .validation import check_observations
from .vec_env import env_id_of, wrap_env

__all__ = ["BaseAlgorithm", "blas_threads", "reject_unsupported"]

def _no_thread_recheck() -> None:
    """The between-updates call of a learn() whose BLAS thread count is fixed."""


def reject_unsupported(algo_name: str, feature: str, **given) -> None:
    """ValueError for Stable-Baselines3 arguments we accept but do not implement, when one is set:
    `given` maps each argument name to (value, default)."""
    changed = ", ".join(f"{name}={value!r}" for name, (value, default) in given.items() if value != default)
    if changed:
        raise ValueError(f"{algo_name} does not implement {feature} ({changed}); leave "
                         f"{', '.join(given)} at their defaults")


class BaseAlgorithm:
    """Shared agent machinery. `env`: id, gymnasium.Env, Gymnasium vector env (any autoreset mode) or SB3 VecEnv
    (DummyVecEnv, SubprocVecEnv, VecNormalize, ...); None only when loading.

    SB3's arguments and three more: `normalize` (False, True or ObsNormalizer kwargs: the
    VecNormalize equivalent, saved with the agent), `n_envs` (sub-envs made when `env` is an id)
    and `blas_num_threads` (BLAS threads during learn: an int, None to leave BLAS alone, or "auto", the
    default, which picks from the size of the nets' matmuls and the cores other processes leave free, see
    rl/core/blas_threads.py; pass an int where a seed must reproduce bit for bit). `device` is accepted and
    ignored (everything runs on the CPU); gSDE (use_sde, sde_sample_freq) is implemented by the on-policy ones.
    """

    algo_name = "BaseAlgorithm"
    policy_aliases: dict = {}
    supported_action_spaces: tuple = (gym.spaces.Discrete, gym.spaces.Box)
    _hparam_names: tuple = ()

    def __init__(self, policy, env, learning_rate, policy_kwargs: dict | None = None, stats_window_size: int = 100,
                 tensorboard_log: str | None = None, verbose: int = 0, device: str = "auto", seed: int | None = None,
                 use_sde: bool = False, sde_sample_freq: int = -1, normalize: bool | dict = False, n_envs: int = 1,
                 blas_num_threads: int | str | None = "auto"):
        self.use_sde, self.sde_sample_freq = bool(use_sde), int(sde_sample_freq)  # gSDE: on-policy algorithms
        if isinstance(policy, str):
            if policy not in self.policy_aliases:
                raise ValueError(f"unknown policy {policy!r} for {self.algo_name}; "
                                 f"use one of {sorted(self.policy_aliases)}")
            self.policy_class = self.policy_aliases[policy]
            self.policy_name = policy
        else:  # a class: saved under its alias ("CnnPolicy") so that load can rebuild it
            self.policy_class = policy
            self.policy_name = next((name for name, cls in self.policy_aliases.items() if cls is policy),
                                    getattr(policy, "__name__", "MlpPolicy"))
        self.learning_rate = learning_rate
        self.policy_kwargs = dict(policy_kwargs or {})
        self.tensorboard_log, self.verbose, self.seed, self.device = tensorboard_log, int(verbose), seed, device
        self.normalize = normalize
        self.blas_num_threads = blas_num_threads
        self._blas_auto = None  # the AutoBlasThreads of the last learn() with blas_num_threads="auto"
        self.num_timesteps = 0
        self._total_timesteps = 0
        self._num_timesteps_at_start = 0
        self._episode_num = 0
        self._current_progress_remaining = 1.0
        self._n_updates = 0
        self._last_obs = None
        self._last_features = None
        self._last_episode_starts = None
        self.ep_info_buffer: deque = deque(maxlen=int(stats_window_size))
        self.ep_success_buffer: deque = deque(maxlen=int(stats_window_size))
        self._logger = Logger(None, ())
        self.obs_normalizer: ObsNormalizer | None = None
        self.env = None
        self.env_id = None
        self.n_envs = int(n_envs)
        self._sb3_env = None  # what get_env() returns: the SB3 VecEnv passed in, or a view of self.env
        if env is not None:
            self.env = wrap_env(env, n_envs=n_envs, seed=seed)
            self._sb3_env = env if is_sb3_vec_env(env) else None
            self.env_id = env_id_of(env)
            self.n_envs = self.env.num_envs
            self.observation_space = self.env.single_observation_space
            self.action_space = self.env.single_action_space
            self._check_spaces()
        self.set_random_seed(seed)
        self.lr_schedule = get_schedule_fn(self.learning_rate)

    # ------------------------------------------------------------------ setup helpers
    def _check_spaces(self) -> None:
        if not isinstance(self.action_space, self.supported_action_spaces):
            names = ", ".join(c.__name__ for c in self.supported_action_spaces)
            raise ValueError(f"{self.algo_name} does not support the action space {self.action_space}; "
                             f"supported: {names}")
        if isinstance(self.action_space, gym.spaces.Discrete) and int(self.action_space.start) != 0:
            raise ValueError(f"Discrete action spaces must start at 0, got start={self.action_space.start}")
        if isinstance(self.action_space, gym.spaces.Box):
            if len(self.action_space.shape) != 1:
                raise ValueError(f"Box action spaces must be 1-D, got shape {self.action_space.shape}")
            if not (np.isfinite(self.action_space.low).all() and np.isfinite(self.action_space.high).all()):
                raise ValueError("Box action spaces need finite low/high bounds")
        extractor = default_features_extractor(self.policy_class, self.policy_kwargs)
        self.preprocessor = ObsPreprocessor(self.observation_space,
                                            raw=uses_raw_observations(self.observation_space, extractor))

    def set_random_seed(self, seed: int | None) -> None:
        """Seed network init (corenn), action sampling and minibatch shuffling; envs on their first reset."""
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self._predict_rng = np.random.default_rng(None if seed is None else seed + 1)
        self._pending_env_seed = seed
        if seed is not None:
            corenn.manual_seed(seed)
            if self.env is not None:
                self.env.action_space.seed(seed)
                self.env.observation_space.seed(seed)

    def _setup_normalizer(self) -> None:
        if not self.normalize:
            self.obs_normalizer = None
            return
        kwargs = dict(self.normalize) if isinstance(self.normalize, dict) else {}
        kwargs.setdefault("gamma", getattr(self, "gamma", 0.99))
        if self.preprocessor.raw and kwargs.get("norm_obs", True):
            raise ValueError("normalize=True normalises flat observation vectors; this policy reads images (scaled "
                             "by normalize_images) or uses a features extractor. Use normalize=dict(norm_obs=False)"
                             " to normalise rewards only")
        self.obs_normalizer = ObsNormalizer((self.preprocessor.features_dim,), self.n_envs, **kwargs)

    def _features(self, obs, update: bool = False) -> np.ndarray:
        """Batched raw observations -> what buffers store and the policy reads: float32 features (B, F),
        normalised (stats updated if `update`), or the raw batch for policies that read observations."""
        feats = self.preprocessor(obs, batched=True)
        if self.obs_normalizer is not None and not self.preprocessor.raw:
            if update:
                self.obs_normalizer.update_obs(feats)
            feats = self.obs_normalizer.normalize_obs(feats)
        return feats

    @property
    def logger(self) -> Logger:
        return self._logger

    def set_logger(self, logger: Logger) -> None:
        """Use `logger` (e.g. from `configure(folder, ["csv", "tensorboard"])`) instead of the one
        learn() would make from verbose/tensorboard_log, as SB3 does."""
        self._logger = logger
        self._custom_logger = True

    def get_env(self):
        """The training env as an SB3 VecEnv (reset() -> obs, step() -> obs, rewards, dones, infos): the VecEnv
        passed in, or an SB3 view of the Gymnasium vector env the agent steps (`GymVectorVecEnv`); None
        without an env. `self.env` is the Gymnasium form that the training loops use."""
        if self.env is None:
            return None
        if self._sb3_env is None:
            self._sb3_env = sb3_view(self.env)
        return self._sb3_env

    def get_vec_normalize_env(self):
        """The VecNormalize wrapping the training env, or None (the `normalize=` option is `obs_normalizer`)."""
        return unwrap_vec_normalize(self.get_env())

    def set_env(self, env, force_reset: bool = True) -> None:
        """Attach a new env with the same spaces (number of sub-envs may differ): an id, a gymnasium.Env, a
        Gymnasium vector env or an SB3 VecEnv."""
        vec = wrap_env(env, seed=None)
        for saved, space, what in ((self.observation_space, vec.single_observation_space, "observation"),
                                   (self.action_space, vec.single_action_space, "action")):
            check_space_matches(space_to_json(saved), space, what)
        self.env, self.n_envs = vec, vec.num_envs
        self._sb3_env = env if is_sb3_vec_env(env) else None
        self.env_id = env_id_of(env) or self.env_id
        if self.obs_normalizer is not None:
            self.obs_normalizer.set_n_envs(self.n_envs)
        if force_reset:
            self._last_obs = None

    def _update_current_progress_remaining(self, num_timesteps: int, total_timesteps: int) -> None:
        self._current_progress_remaining = 1.0 - float(num_timesteps) / float(max(total_timesteps, 1))

    def _update_learning_rate(self, optimizers) -> float:
        lr = self.lr_schedule(self._current_progress_remaining)
        for opt in optimizers if isinstance(optimizers, (list, tuple)) else [optimizers]:
            for group in opt.param_groups:
                group["lr"] = lr
        self.logger.record("train/learning_rate", lr)
        return lr

    # ------------------------------------------------------------------ learn plumbing
    def _reset_env(self) -> None:
        obs, _ = self.env.reset(seed=self._pending_env_seed)
        self._pending_env_seed = None
        check_observations(obs, self.num_timesteps, "observation from reset()")
        self._last_obs = obs
        self._last_features = self._features(obs, update=True)
        self._last_episode_starts = np.ones(self.n_envs, np.float32)

    def _setup_learn(self, total_timesteps: int, callback=None, reset_num_timesteps: bool = True,
                     tb_log_name: str = "run", progress_bar: bool = False):
        if self.env is None:
            raise ValueError("this agent has no environment: pass env= to load() or call set_env(env) before learn()")
        self.start_time = time.time_ns()
        if reset_num_timesteps:
            self.num_timesteps = 0
            self._episode_num = 0
            self.ep_info_buffer.clear()
            self.ep_success_buffer.clear()
        else:
            total_timesteps += self.num_timesteps
        self._total_timesteps = int(total_timesteps)
        self._num_timesteps_at_start = self.num_timesteps
        if reset_num_timesteps or self._last_obs is None:
            self._reset_env()
        if not getattr(self, "_custom_logger", False):
            self._logger = configure_logger(self.verbose, self.tensorboard_log, tb_log_name, reset_num_timesteps)
        callback = convert_callback(callback)
        if progress_bar:
            callback = CallbackList([callback, ProgressBarCallback()])
        callback.init_callback(self)
        return self._total_timesteps, callback

    @staticmethod
    def _check_finite(obs) -> None:
        values = obs.values() if isinstance(obs, dict) else (obs,)
        for v in values:
            v = np.asarray(v)
            if v.dtype.kind == "f" and not np.isfinite(v).all():
                raise ValueError("the environment returned an observation containing NaN or inf")

    def _update_info_buffer(self, infos: dict, dones: np.ndarray) -> None:
        """Episode returns/lengths (rollout/ep_*) and success flags from a vector step's infos."""
        if "_episode" in infos:
            mask = infos["_episode"]
            for ep_return, ep_length in zip(infos["episode"]["r"][mask], infos["episode"]["l"][mask]):
                self.ep_info_buffer.append({"r": float(ep_return), "l": int(ep_length)})
            self._episode_num += int(mask.sum())
        final = infos.get("final_info", {})
        if "is_success" in final:
            for i in np.flatnonzero(final.get("_is_success", dones) & dones):
                self.ep_success_buffer.append(float(final["is_success"][i]))

    def _dump_logs(self, iteration: int) -> None:
        self.logger.record("time/iterations", iteration, exclude="tensorboard")
        self._record_rollout_and_dump()

    def _largest_matmul_macs(self) -> int:
        """Size of an update's largest matmul, for blas_num_threads="auto" (rl/core/blas_threads.py)."""
        rows = getattr(self, "batch_size", None) or getattr(self, "n_steps", 1) or 1
        return 0 if getattr(self, "policy", None) is None else largest_matmul_macs(self.policy.parameters(), rows)

    @property
    def blas_threads_used(self) -> int | None:
        """The thread count "auto" chose last (time/blas_threads in the logs); None for a fixed setting."""
        return None if self._blas_auto is None else self._blas_auto.threads

    @contextlib.contextmanager
    def _learning_threads(self):
        """BLAS threads for a learn() call (`blas_num_threads`); yields what the loop calls between updates."""
        with blas_threads(self.blas_num_threads, self._largest_matmul_macs()) as auto:
            self._blas_auto = auto
            yield auto.maybe_update if auto is not None else _no_thread_recheck

    def _record_rollout_and_dump(self) -> None:
        """rollout/* episode statistics and time/*, then write the log block at num_timesteps."""
        elapsed = max((time.time_ns() - self.start_time) / 1e9, 1e-9)
        fps = int((self.num_timesteps - self._num_timesteps_at_start) / elapsed)
        if self.ep_info_buffer:
            self.logger.record("rollout/ep_rew_mean", float(np.mean([e["r"] for e in self.ep_info_buffer])))
            self.logger.record("rollout/ep_len_mean", float(np.mean([e["l"] for e in self.ep_info_buffer])))
        if self.ep_success_buffer:
            self.logger.record("rollout/success_rate", float(np.mean(self.ep_success_buffer)))
        self.logger.record("time/fps", fps)
        if self.blas_threads_used is not None:
            self.logger.record("time/blas_threads", self.blas_threads_used, exclude="tensorboard")
        self.logger.record("time/time_elapsed", int(elapsed), exclude="tensorboard")
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        self.logger.dump(step=self.num_timesteps)

    # ------------------------------------------------------------------ predict
    def predict(self, observation, state=None, episode_start=None, deterministic: bool = False):
        """Actions for one observation or a batch -> (actions, state) like SB3 (state stays None).

        Image observations may be channel-last (H, W, C) or channel-first (C, H, W), single or batched."""
        obs = predict_input(observation, self.observation_space, f"{type(self).__name__}.predict")
        batched = self.preprocessor.is_batched(obs)
        self._check_finite(obs)
        feats = self.preprocessor(obs, batched=batched)
        if self.obs_normalizer is not None and not self.preprocessor.raw:
            feats = self.obs_normalizer.normalize_obs(feats)
        actions = self.policy.predict_actions(feats, deterministic, self._predict_rng)
        return (actions if batched else actions[0]), state

    # ------------------------------------------------------------------ checkpoints
    def _policy_optimizers(self) -> dict:
        return {"policy.optimizer": self.policy.optimizer}

    def get_parameters(self) -> dict:
        """{"policy": state_dict, "policy.optimizer": optimizer state} (SB3 layout)."""
        params = {"policy": self.policy.state_dict()}
        params.update({k: opt.state_dict() for k, opt in self._policy_optimizers().items()})
        return params

    def set_parameters(self, load_path_or_dict, exact_match: bool = True) -> None:
        """Load weights (and optimizer states) from get_parameters() output or a checkpoint path.

        Everything is checked before anything is assigned (names, shapes, dtypes, finite values): a
        refused input raises CheckpointError and leaves the agent exactly as it was.
        """
        params, require_optimizer = load_path_or_dict, exact_match
        if not isinstance(params, dict):
            data, meta = load_agent(params, expected_algo=self.algo_name,
                                    prepare=lambda meta, skeleton: check_file_arrays(self, meta, skeleton))
            params = self._full_params(data["params"], meta)
            require_optimizer = exact_match and meta.get("optimizer_state", True)
        else:
            check_finite({"params": params}, "set_parameters")
        check_params(self, params, require_optimizer=require_optimizer, exact_match=exact_match)
        policy_state = params.get("policy")
        if not exact_match:  # names this policy does not have are ignored
            own = {n for n, _ in self.policy.named_parameters()} | {n for n, _ in self.policy.named_buffers()}
            policy_state = {k: v for k, v in policy_state.items() if k in own}
        snapshot = self.get_parameters()
        try:
            self.policy.load_state_dict(policy_state, strict=exact_match)
            for key, opt in self._policy_optimizers().items():
                if key in params:
                    opt.load_state_dict(params[key])
        except BaseException:
            self.policy.load_state_dict(snapshot["policy"])
            for key, opt in self._policy_optimizers().items():
                opt.load_state_dict(snapshot[key])
            raise

    def _full_params(self, params: dict, meta: dict) -> dict:
        """A file's params with target networks copied from their online networks when it left them out."""
        if not meta.get("target_networks", True):
            params = dict(params, policy=with_target_networks(params["policy"], self.policy.state_dict()))
        return params

    def _hyperparameters(self) -> dict:
        return {name: schedule_to_json(getattr(self, name), self._current_progress_remaining)
                for name in self._hparam_names}

    def _extra_state(self) -> dict:
        """Arrays beyond weights that a subclass wants saved (e.g. a replay buffer)."""
        return {}

    def _load_extra_state(self, data: dict) -> None:
        return None

    def save(self, path, exclude=None, include=None) -> str:
        """Write the agent to `path` (".npz" appended if missing); returns the path written.

        exclude=["optimizer"] leaves out the optimizer states: a compact file for acting (the zoo);
        loading it gives fresh optimizers, so resumed training restarts their moments.
        exclude=["target_networks"] leaves out target networks (`X_target` beside `X` in the policy);
        loading copies them from their online networks, as at the start of training.
        The run state needed to resume exactly (last observation, RNGs, ...) is always saved
        (`rl.core.resume_state`). A NaN / inf weight, optimizer state or statistic refuses the save.
        """
        params = self.get_parameters()
        without_optimizer = "optimizer" in (exclude or ())
        if without_optimizer:
            params = {k: v for k, v in params.items() if k not in self._policy_optimizers()}
        without_targets = "target_networks" in (exclude or ())
        if without_targets:
            copies = target_copy_keys(params["policy"])
            params["policy"] = {k: v for k, v in params["policy"].items() if k not in copies}
        arrays: dict[str, Any] = {"params": params}
        if self.obs_normalizer is not None:
            arrays["normalizer"] = self.obs_normalizer.state_dict()
        arrays.update(self._extra_state())
        arrays["resume"], resume_meta = resume_state.collect(self)
        meta = {
            "algo": self.algo_name, "env_id": self.env_id, "policy": self.policy_name,
            "observation_space": space_to_json(self.observation_space),
            "action_space": space_to_json(self.action_space),
            "hyperparameters": self._hyperparameters(), "policy_kwargs": self.policy.config(),
            "normalize": self.obs_normalizer.config() if self.obs_normalizer is not None else False,
            "num_timesteps": int(self.num_timesteps), "episode_num": int(self._episode_num),
            "n_updates": int(self._n_updates), "n_envs": int(self.n_envs), "seed": self.seed,
            "tensorboard_log": self.tensorboard_log, "verbose": self.verbose,
            "rng_state": self.rng.bit_generator.state, "optimizer_state": not without_optimizer,
            "target_networks": not without_targets, "resume": resume_meta,
        }
        return save_agent(path, arrays, meta)

    @classmethod
    def load(cls, path, env=None, device: str = "auto", custom_objects: dict | None = None,
             print_system_info: bool = False, force_reset: bool = True, **kwargs):
        """Rebuild an agent saved by `save`.

        `env` (optional) must have the same spaces; kwargs override hyperparameters. With
        force_reset=False and the env the agent was trained on, `learn(n, reset_num_timesteps=False)`
        continues exactly where the saved run stopped. The file is checked in three steps, each before
        the next thing happens: its metadata against the schema (before anything is built), its
        declared array shapes against the built agent (before any array is read), its values
        (before any is assigned). Every problem is one CheckpointError naming the field or tensor.
        """
        return load_model(cls, path, env, {**(custom_objects or {}), **kwargs}, force_reset)

    def _setup_model(self) -> None:
        """Build policy, buffers and normaliser (subclasses)."""
        raise RuntimeError(f"{type(self).__name__} must define _setup_model()")

    def learn(self, total_timesteps: int, callback=None, log_interval: int = 1, tb_log_name: str = "run",
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        raise RuntimeError(f"{type(self).__name__} must define learn()")
