"""Behaviour cloning: fit pi(a|s) to a dataset's actions by maximum likelihood (Pomerleau 1991; the offline
baseline of D4RL).

For a minibatch of B dataset transitions (s_i, a_i):

    Discrete:            L = -1/B sum_i log softmax(logits(s_i))[a_i]                     (cross-entropy)
    Box, loss="mse":     L = 1/(B d) sum_i ||mu(s_i) - a_i||^2
    Box, loss="nll":     L = 1/B sum_i sum_j [ (a_ij - mu_j(s_i))^2 / (2 sigma_j(s_i)^2) + log sigma_j(s_i)
                                                + log(2 pi) / 2 ]                          (Gaussian NLL)

with mu, sigma = exp(log_std) and the logits from `BCPolicy`. `learn(total_timesteps)` runs that many gradient
steps (an offline algorithm has no env steps; num_timesteps counts gradient steps); the env, when given, only
fixes the spaces and lets callbacks evaluate. Checkpoints are agent files (`rl.core.checkpoint`: .npz + JSON,
atomic, checksummed), validated field by field before anything is built.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np

import corenn
import corenn.nn.functional as F

from ..core.base_algorithm import BaseAlgorithm
from ..core.checkpoint import CheckpointError, check_space_matches, load_agent, save_agent, space_from_json
from ..core.checkpoint_fields import algo_spaces, check_int, check_keys, field_error, space
from ..core.checkpoint_schema import _policy_kwargs as validate_policy_kwargs
from ..core.checkpoint_tensors import check_module_state, check_optimizer_state
from ..core.offline_learning import OfflineLearning
from ..core.schedules import schedule_from_json
from ..core.validation import check_finite_scalar, check_hyperparameters, check_value, constructor_args
from ..data.dataset_argument import as_flat_dataset
from .policies import BCPolicy

__all__ = ["BC", "bc_loss", "LOSSES"]

LOSSES = ("auto", "mse", "nll")
_META_KEYS = {"format", "format_version", "algo", "env_id", "policy", "observation_space", "action_space",
              "hyperparameters", "policy_kwargs", "num_timesteps", "n_updates", "seed", "tensorboard_log", "verbose",
              "optimizer_state", "dataset_id", "corenn_version", "rng_state"}
_LOG_2PI = math.log(2 * math.pi)


def bc_loss(policy_out, actions: np.ndarray, loss: str) -> corenn.Tensor:
    """The BC loss (module docstring) of `BCPolicy.forward`'s output for dataset actions (B,) or (B, d)."""
    if loss == "ce":
        return F.cross_entropy(policy_out, np.asarray(actions, np.int64).reshape(-1))
    mean = policy_out[0] if loss == "nll" else policy_out
    target = corenn.Tensor(np.asarray(actions, mean.data.dtype).reshape(mean.shape))
    if loss == "mse":
        return ((mean - target) ** 2).mean()
    if loss != "nll":
        raise ValueError(f"unknown BC loss {loss!r}; use 'ce', 'mse' or 'nll'")
    log_std = policy_out[1]
    z = (target - mean) * (-log_std).exp()
    return (z * z * 0.5 + log_std + 0.5 * _LOG_2PI).sum(axis=1).mean()


class BC(OfflineLearning, BaseAlgorithm):
    """Behaviour cloning (SB3-shaped: constructor, learn, predict, save/load).

    dataset: a Minari dataset id or folder, an `OfflineDataset` or a `FlatDataset` (`rl.data`); needed by
    learn(), not saved with the agent. env: optional (an id or env: spaces and evaluation); without it the
    spaces come from the dataset. loss: "auto" (cross-entropy for Discrete actions, "mse" for Box), "mse"
    or "nll" (Gaussian) for Box actions. batch_size: transitions per gradient step.
    """

    algo_name = "BC"
    policy_aliases = {"MlpPolicy": BCPolicy}
    supported_action_spaces = (gym.spaces.Discrete, gym.spaces.Box)
    _hparam_names = ("learning_rate", "batch_size", "loss")

    def __init__(self, policy, env=None, dataset=None, learning_rate=1e-3, batch_size: int = 256, loss: str = "auto",
                 policy_kwargs: dict | None = None, stats_window_size: int = 100, tensorboard_log: str | None = None,
                 verbose: int = 0, device: str = "auto", seed: int | None = None,
                 blas_num_threads: int | str | None = "auto", _init_setup_model: bool = True):
        check_hyperparameters("BC", constructor_args(locals()))
        self.dataset = as_flat_dataset(dataset)
        super().__init__(policy, env, learning_rate, policy_kwargs=policy_kwargs, stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, verbose=verbose, device=device, seed=seed,
                         blas_num_threads=blas_num_threads)
        self.batch_size, self.loss = int(batch_size), loss
        self._use_dataset_spaces(env)
        if _init_setup_model:
            if not hasattr(self, "observation_space"):
                raise ValueError("BC needs an env or a dataset to know its observation and action spaces")
            self._setup_model()

    @property
    def loss_kind(self) -> str:
        """"ce" (Discrete), "mse" or "nll": the loss `train_step` minimises."""
        if isinstance(self.action_space, gym.spaces.Discrete):
            if self.loss == "mse":
                raise ValueError("loss='mse' needs Box actions; Discrete actions are fitted by cross-entropy "
                                 "(loss='auto' or 'nll')")
            return "ce"
        return "mse" if self.loss == "auto" else self.loss

    def _setup_model(self) -> None:
        self.policy = self.policy_class(self.observation_space, self.action_space, self.lr_schedule,
                                        gaussian=self.loss_kind == "nll", **self.policy_kwargs)

    # ------------------------------------------------------------------ training
    def train_step(self, batch: dict) -> dict:
        """One gradient step on a minibatch (`FlatDataset.sample`) -> the logged values."""
        feats = self._features(batch["observations"])
        kind = self.loss_kind
        out = self.policy(feats)
        loss = bc_loss(out, batch["actions"], kind)
        check_finite_scalar("BC loss", loss.item(), self._n_updates, self.num_timesteps)
        self.policy.optimizer.zero_grad()
        loss.backward()
        self.policy.optimizer.step()
        logs = {"train/loss": loss.item()}
        if kind == "ce":
            logs["train/accuracy"] = float(np.mean(out.data.argmax(-1) == np.asarray(batch["actions"]).reshape(-1)))
        else:
            mean = out[0].data if kind == "nll" else out.data
            logs["train/mse"] = float(np.mean((mean - np.asarray(batch["actions"]).reshape(mean.shape)) ** 2))
        return logs

    def learn(self, total_timesteps: int, callback=None, log_interval: int = 1000, tb_log_name: str = "BC",
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        """`total_timesteps` gradient steps on minibatches of the dataset; logs every `log_interval` steps."""
        total_timesteps, callback = self._setup_offline_learn(total_timesteps, callback, reset_num_timesteps,
                                                              tb_log_name, progress_bar)
        callback.on_training_start(locals(), globals())
        self.policy.set_training_mode(True)
        logs = {}
        with self._learning_threads() as recheck_threads:
            while self.num_timesteps < self._total_timesteps:
                self._update_current_progress_remaining(self.num_timesteps, self._total_timesteps)
                self._update_learning_rate(self.policy.optimizer)
                recheck_threads()
                logs = self.train_step(self.dataset.sample(self.batch_size, self.rng))
                self.num_timesteps += 1
                self._n_updates += 1
                callback.update_locals(locals())
                if not callback.on_step():
                    break
                if log_interval and self._n_updates % int(log_interval) == 0:
                    self._dump(logs)
        if logs and (not log_interval or self._n_updates % int(log_interval)):
            self._dump(logs)
        callback.on_training_end()
        return self

    def _dump(self, logs: dict) -> None:
        for key, value in logs.items():
            self.logger.record(key, value)
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self._record_rollout_and_dump()

    # ------------------------------------------------------------------ checkpoints
    def save(self, path, exclude=None, include=None) -> str:
        """Write the agent (weights, optimizer unless exclude=["optimizer"], settings) to `path` (.npz)."""
        params = self.get_parameters()
        without_optimizer = "optimizer" in (exclude or ())
        if without_optimizer:
            params.pop("policy.optimizer")
        meta = {"algo": self.algo_name, "env_id": self.env_id, "policy": self.policy_name,
                "observation_space": _space_json(self.observation_space),
                "action_space": _space_json(self.action_space), "hyperparameters": self._hyperparameters(),
                "policy_kwargs": self.policy.config(), "num_timesteps": int(self.num_timesteps),
                "n_updates": int(self._n_updates), "seed": self.seed, "tensorboard_log": self.tensorboard_log,
                "verbose": self.verbose, "optimizer_state": not without_optimizer,
                "dataset_id": None if self.dataset is None else self.dataset.dataset_id,
                "rng_state": self.rng.bit_generator.state}
        return save_agent(path, {"params": params}, meta)

    @classmethod
    def load(cls, path, env=None, dataset=None, device: str = "auto", custom_objects: dict | None = None,
             print_system_info: bool = False, force_reset: bool = True, **kwargs):
        """A BC agent from a file written by `save`; `dataset` (optional) to train on further, `kwargs`
        override saved hyperparameters. Every problem is one CheckpointError naming the field or tensor."""
        built = {}

        def prepare(meta: dict, skeleton) -> None:
            built["model"] = _build_checked(cls, path, meta, skeleton, env, {**(custom_objects or {}), **kwargs})

        data, meta = load_agent(path, expected_algo=cls.algo_name, prepare=prepare)
        model = built["model"]
        model.policy.load_state_dict(data["params"]["policy"], strict=True)
        if "policy.optimizer" in data["params"]:
            model.policy.optimizer.load_state_dict(data["params"]["policy.optimizer"])
        model.num_timesteps, model._n_updates = int(meta["num_timesteps"]), int(meta["n_updates"])
        if isinstance(meta.get("rng_state"), dict):
            try:
                model.rng.bit_generator.state = meta["rng_state"]
            except (TypeError, ValueError, KeyError) as e:
                raise CheckpointError(f"{path}: rng_state is not a NumPy generator state ({e})") from None
        if dataset is not None:
            model.set_dataset(dataset)
        return model


def _space_json(space_: gym.Space) -> dict:
    from ..core.checkpoint import space_to_json

    return space_to_json(space_)


def _build_checked(cls, path, meta: dict, skeleton, env, overrides: dict) -> BC:
    """Validate a BC file's metadata and declared arrays, and build the (untrained) agent it describes."""
    check_keys("metadata", meta, _META_KEYS)
    space("observation_space", meta.get("observation_space"))
    space("action_space", meta.get("action_space"))
    algo_spaces(meta, cls)
    hp = meta.get("hyperparameters")
    if not isinstance(hp, dict) or set(hp) != set(cls._hparam_names):
        raise field_error("hyperparameters", f"expected exactly {sorted(cls._hparam_names)}")
    for name in ("learning_rate", "batch_size"):
        try:
            check_value(name, hp[name])
        except (ValueError, TypeError) as e:
            raise field_error(f"hyperparameters.{name}", str(e)) from None
    if hp["loss"] not in LOSSES:
        raise field_error("hyperparameters.loss", f"expected one of {LOSSES}, got {str(hp['loss'])[:40]!r}")
    if meta.get("policy") not in cls.policy_aliases:
        raise field_error("policy", f"expected one of {sorted(cls.policy_aliases)}")
    validate_policy_kwargs(meta, cls)
    for key in ("num_timesteps", "n_updates"):
        check_int(key, meta.get(key), 0, 2**62)
    if meta.get("seed") is not None:
        check_int("seed", meta["seed"], 0, 2**63 - 1)
    obs_space, act_space = space_from_json(meta["observation_space"]), space_from_json(meta["action_space"])
    if env is not None:
        probe = env if isinstance(env, gym.Env) else gym.make(env) if isinstance(env, str) else None
        if probe is not None:
            check_space_matches(meta["observation_space"], probe.observation_space, "observation")
            check_space_matches(meta["action_space"], probe.action_space, "action")
    hparams = {k: schedule_from_json(v) for k, v in hp.items()}
    hparams.update(overrides)
    try:
        model = cls(meta["policy"], env=env, learning_rate=hparams.pop("learning_rate"),
                    policy_kwargs=meta.get("policy_kwargs"), seed=meta.get("seed"),
                    tensorboard_log=meta.get("tensorboard_log"), verbose=meta.get("verbose", 0),
                    _init_setup_model=False, **hparams)
        if env is None:
            model.observation_space, model.action_space = obs_space, act_space
            model._check_spaces()
        model.env_id = model.env_id or meta.get("env_id")
        model._setup_model()
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: cannot rebuild a BC agent from its saved settings ({e})") from e
    params = skeleton.get("params") if isinstance(skeleton, dict) else None
    if not isinstance(skeleton, dict) or set(skeleton) != {"params"} or not isinstance(params, dict):
        raise CheckpointError(f"{path}: data must hold exactly 'params'")
    want = {"policy", "policy.optimizer"} if meta.get("optimizer_state", True) else {"policy"}
    if set(params) != want:
        raise CheckpointError(f"{path}: params holds {sorted(map(str, params))}; expected {sorted(want)}")
    check_module_state("params/policy", params["policy"], model.policy.state_dict())
    if "policy.optimizer" in params:
        check_optimizer_state("params/policy.optimizer", params["policy.optimizer"], model.policy.optimizer)
    return model
