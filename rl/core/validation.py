"""Hyperparameter range checks and the NaN/inf guards of the training loops.

`check_hyperparameters(algo_name, params)` checks constructor arguments, or a checkpoint's saved
hyperparameters in their JSON forms, against one table (`RULES`, with per-algorithm `OVERRIDES`
and the names each algorithm takes in `ALGORITHM_PARAMS`) and builds nothing. The `check_*`
guards below it follow SB3's VecCheckNan: one `np.isfinite(x).all()` per array per step, and a
ValueError naming the env index and the step (num_timesteps), or the loss and the update.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Rule", "RULES", "NESTED", "OVERRIDES", "ALGORITHM_PARAMS", "check_hyperparameters", "check_value",
           "constructor_args", "check_rollout_size", "check_observations", "check_env_step",
           "check_final_observations", "check_actions", "check_finite_scalar", "check_reward", "MAX_BUFFER_SIZE",
           "MAX_ROLLOUT", "MAX_BATCH_SIZE", "MAX_N_ENVS"]

MAX_BUFFER_SIZE = 10_000_000  # replay buffers allocate every row up front
MAX_ROLLOUT = 10_000_000  # n_steps * n_envs rows of the rollout buffer
MAX_BATCH_SIZE = 1_000_000
MAX_N_ENVS = 4096  # one env object (and its memory) per sub-env
MAX_COUNT = 10**12  # step and update counts (learning_starts, intervals)


class Rule(NamedTuple):
    """What one hyperparameter accepts.

    kind: int, float, bool, str, dict, path, schedule (a number, 'lin_X', a schedule's JSON or a
    callable; its initial value is range-checked), any, none, choice (one of `also`), or a special kind:
    train_freq, action_noise, ent_coef, target_entropy, replay_buffer_class, normalize, dataset (an
    offline dataset: an id or folder, or a loaded `rl.data` dataset), net_arch (a list of layer widths).
    low/high are inclusive unless open_low/open_high; `optional` accepts None; `also` lists other accepted values; `why`
    is added to the error.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    optional: bool = False
    also: tuple = ()
    why: str = ""


_PROB = Rule("float", 0, 1)
_POSITIVE = Rule("float", 0, open_low=True)
_NON_NEGATIVE = Rule("float", 0)
_BOOL = Rule("bool")

RULES: dict[str, Rule] = {
    # every algorithm (BaseAlgorithm's own arguments included)
    "learning_rate": Rule("schedule", 0, open_low=True),
    "gamma": _PROB,
    "seed": Rule("int", 0, optional=True),
    "verbose": Rule("int", 0, 2),
    "stats_window_size": Rule("int", 1, 1_000_000),
    "policy_kwargs": Rule("dict", optional=True), "normalize": Rule("normalize"),
    "tensorboard_log": Rule("path", optional=True), "device": Rule("str"),
    "n_envs": Rule("int", 1, MAX_N_ENVS, why="one env object per sub-env"),
    "blas_num_threads": Rule("int", 1, 1024, optional=True),
    "use_sde": _BOOL, "sde_sample_freq": Rule("int", -1, MAX_COUNT), "use_sde_at_warmup": _BOOL,
    # on-policy
    "n_steps": Rule("int", 1, 1_000_000, why="the rollout buffer holds n_steps x n_envs steps"),
    "batch_size": Rule("int", 1, MAX_BATCH_SIZE, why="a batch is held in memory at once"),
    "n_epochs": Rule("int", 1, 10_000),
    "gae_lambda": _PROB,
    "clip_range": Rule("schedule", 0, open_low=True),
    "clip_range_vf": Rule("schedule", 0, open_low=True, optional=True),
    "normalize_advantage": _BOOL,
    "ent_coef": _NON_NEGATIVE, "vf_coef": _NON_NEGATIVE,
    "max_grad_norm": _POSITIVE,
    "target_kl": Rule("float", 0, open_low=True, optional=True),
    "rollout_buffer_class": Rule("any"), "rollout_buffer_kwargs": Rule("any"),  # refused unless None
    "rms_prop_eps": _POSITIVE, "use_rms_prop": _BOOL,
    "use_baseline": _BOOL,
    # off-policy
    "buffer_size": Rule("int", 1, MAX_BUFFER_SIZE, why="the replay buffer allocates every row up front"),
    "learning_starts": Rule("int", 0, MAX_COUNT),
    "tau": _PROB,
    "train_freq": Rule("train_freq"),
    "gradient_steps": Rule("int", 1, 100_000, also=(-1,)),
    "action_noise": Rule("action_noise", optional=True),
    "replay_buffer_class": Rule("replay_buffer_class", optional=True),
    "replay_buffer_kwargs": Rule("dict", optional=True),
    "optimize_memory_usage": _BOOL,
    "target_update_interval": Rule("int", 1, MAX_COUNT),
    "exploration_fraction": _PROB, "exploration_initial_eps": _PROB, "exploration_final_eps": _PROB,
    "policy_delay": Rule("int", 1, 1_000_000),
    "target_policy_noise": _NON_NEGATIVE, "target_noise_clip": _NON_NEGATIVE,
    "target_entropy": Rule("target_entropy"),
    # tabular
    "theta": _POSITIVE,
    "max_iterations": Rule("int", 1, 1_000_000_000),
    # offline data and imitation (rl/bc, rl/cql, rl/gail)
    "dataset": Rule("dataset", optional=True), "demonstrations": Rule("dataset", optional=True),
    "loss": Rule("choice", also=("auto", "mse", "nll")),
    "policy_learning_rate": _POSITIVE,
    "n_action_samples": Rule("int", 1, 1000, why="each sampled action is one more critic pass per state"),
    "cql_alpha": _NON_NEGATIVE, "cql_temperature": _POSITIVE, "target_action_gap": Rule("float"),
    "importance_sampling": _BOOL, "lagrange": _BOOL, "backup_entropy": _BOOL,
    "bc_steps": Rule("int", 0, MAX_COUNT), "bc_warm_start": Rule("int", 0, MAX_COUNT),
    "demo_batch_size": Rule("int", 1, MAX_BATCH_SIZE, why="a batch is held in memory at once"),
    "n_disc_updates": Rule("int", 0, 10_000), "disc_learning_rate": _POSITIVE,
    "discriminator_net_arch": Rule("net_arch"),
    # HerReplayBuffer (replay_buffer_kwargs)
    "n_sampled_goal": Rule("int", 0, 1000), "copy_info_dict": _BOOL, "handle_timeout_termination": _BOOL,
}

# keys checked inside dict-valued hyperparameters (others are left to the class that takes them)
NESTED: dict[str, dict[str, Rule]] = {
    "replay_buffer_kwargs": {k: RULES[k] for k in ("n_sampled_goal", "copy_info_dict", "handle_timeout_termination")},
    "normalize": {"norm_obs": _BOOL, "norm_reward": _BOOL, "clip_obs": _POSITIVE, "clip_reward": _POSITIVE,
                  "gamma": _PROB, "epsilon": _POSITIVE},
}

OVERRIDES: dict[str, dict[str, Rule]] = {
    "OnPolicyAlgorithm": {"max_grad_norm": Rule("float", 0, optional=True)},  # each subclass sets its own rule
    "REINFORCE": {"max_grad_norm": Rule("float", 0, optional=True)},  # None or 0: no clipping
    "SAC": {"ent_coef": Rule("ent_coef")},
    "DQN": {"action_noise": Rule("none", why="DQN explores epsilon-greedily; action noise is for Box actions "
                                             "(DDPG, TD3, SAC)")},
    "QLearning": {"learning_rate": Rule("float", 0, 1, open_low=True)},
}
OVERRIDES["DoubleDQN"] = OVERRIDES["DQN"]
OVERRIDES["CQL"] = OVERRIDES["SAC"]
# MBPO (rl/model_based): SAC's rules plus the dynamics model's and the model rollouts'
MBPO_RULES: dict[str, Rule] = {
    "model_train_freq": Rule("int", 1, 10**9), "epoch_length": Rule("int", 1, 10**9),
    "rollouts_per_step": Rule("int", 1, 100_000), "rollout_schedule": Rule("any"),
    "num_sac_updates_per_step": Rule("int", 1, 100_000), "real_data_ratio": _PROB,
    "model_retain_epochs": Rule("int", 1, 1000), "ensemble_size": Rule("int", 1, 100),
    "num_elites": Rule("int", 1, 100), "dynamics_hidden_size": Rule("int", 1, 4096),
    "dynamics_num_layers": Rule("int", 1, 16), "learn_logvar_bounds": _BOOL,
    "model_learning_rate": _POSITIVE, "model_weight_decay": _NON_NEGATIVE,
    "model_batch_size": Rule("int", 1, MAX_BATCH_SIZE), "model_holdout_ratio": Rule("float", 0, 1, open_high=True),
    "model_patience": Rule("int", 1, 100_000), "model_max_epochs": Rule("int", 1, 10**6, optional=True),
    "termination_fn": Rule("str", optional=True),
}
RULES.update(MBPO_RULES)
OVERRIDES["MBPO"] = OVERRIDES["SAC"]

_BASE = ("learning_rate", "policy_kwargs", "stats_window_size", "tensorboard_log", "verbose", "seed", "device",
         "normalize", "n_envs", "blas_num_threads")
_SDE = ("use_sde", "sde_sample_freq")
_ON = _BASE + ("n_steps", "gamma", "ent_coef", "vf_coef", "max_grad_norm")
_ROLLOUT = _SDE + ("gae_lambda", "rollout_buffer_class", "rollout_buffer_kwargs")
_OFF = _BASE + ("buffer_size", "learning_starts", "batch_size", "tau", "gamma", "train_freq", "gradient_steps",
                "action_noise", "replay_buffer_class", "replay_buffer_kwargs", "optimize_memory_usage", "n_steps")
_DQN = _OFF + ("target_update_interval", "exploration_fraction", "exploration_initial_eps",
               "exploration_final_eps", "max_grad_norm")

ALGORITHM_PARAMS: dict[str, tuple] = {
    "BaseAlgorithm": _BASE + _SDE,
    "OnPolicyAlgorithm": _ON + _ROLLOUT,
    "OffPolicyAlgorithm": _OFF + _SDE + ("use_sde_at_warmup",),
    "PPO": _ON + _ROLLOUT + ("batch_size", "n_epochs", "clip_range", "clip_range_vf", "normalize_advantage",
                             "target_kl"),
    "A2C": _ON + _ROLLOUT + ("rms_prop_eps", "use_rms_prop", "normalize_advantage"),
    "REINFORCE": _ON + ("use_baseline", "normalize_advantage"),
    "DQN": _DQN,
    "DoubleDQN": _DQN,
    "DDPG": _OFF,
    "TD3": _OFF + ("policy_delay", "target_policy_noise", "target_noise_clip"),
    "SAC": _OFF + _SDE + ("use_sde_at_warmup", "ent_coef", "target_update_interval", "target_entropy"),
    "QLearning": ("learning_rate", "gamma", "exploration_initial_eps", "exploration_final_eps",
                  "exploration_fraction", "seed", "verbose"),
    "ValueIteration": ("gamma", "theta", "max_iterations"),
}
# offline and imitation learning. BC and CQL learn from `dataset`; GAIL is PPO with a discriminator's reward
_OFFLINE = ("learning_rate", "policy_kwargs", "stats_window_size", "tensorboard_log", "verbose", "seed", "device",
            "blas_num_threads", "dataset")
ALGORITHM_PARAMS["BC"] = _OFFLINE + ("batch_size", "loss")
ALGORITHM_PARAMS["CQL"] = _OFFLINE + ("normalize", "n_envs", "policy_learning_rate", "batch_size", "tau", "gamma",
                                      "ent_coef", "target_update_interval", "target_entropy", "n_action_samples",
                                      "cql_alpha", "cql_temperature", "importance_sampling", "lagrange",
                                      "target_action_gap", "backup_entropy", "bc_steps")
ALGORITHM_PARAMS["GAIL"] = ALGORITHM_PARAMS["PPO"] + ("demonstrations", "demo_batch_size", "n_disc_updates",
                                                      "disc_learning_rate", "discriminator_net_arch", "bc_warm_start")
ALGORITHM_PARAMS["MBPO"] = _BASE + ("buffer_size", "learning_starts", "batch_size", "tau", "gamma", "action_noise",
                                    "ent_coef", "target_update_interval", "target_entropy") + tuple(MBPO_RULES)
# sb3-contrib's RecurrentPPO: PPO's arguments without the custom rollout buffer ones
ALGORITHM_PARAMS["RecurrentPPO"] = tuple(p for p in ALGORITHM_PARAMS["PPO"]
                                         if p not in ("rollout_buffer_class", "rollout_buffer_kwargs"))
_CANONICAL = {name.lower(): name for name in ALGORITHM_PARAMS}
_ON_POLICY = ("OnPolicyAlgorithm", "PPO", "A2C", "REINFORCE", "RecurrentPPO", "GAIL")
MAX_NET_WIDTH, MAX_NET_DEPTH = 4096, 8


# ---------------------------------------------------------------------------------- hyperparameters
def _num(x) -> str:
    if isinstance(x, numbers.Integral) or (isinstance(x, float) and x.is_integer() and abs(x) >= 10_000):
        return f"{int(x):,}" if abs(x) >= 10_000 else str(int(x))
    return repr(float(x))


def _describe(rule: Rule) -> str:
    lo, hi = rule.low, rule.high
    if lo is not None and hi is not None:
        text = f"in {'(' if rule.open_low else '['}{_num(lo)}, {_num(hi)}{')' if rule.open_high else ']'}"
    elif lo is not None:
        text = f"{'>' if rule.open_low else '>='} {_num(lo)}"
    elif hi is not None:
        text = f"{'<' if rule.open_high else '<='} {_num(hi)}"
    else:
        text = ""
    if rule.kind == "int":
        text = f"an int {text}".rstrip()
    elif rule.kind == "schedule":
        text = f"a finite number {text} (or a schedule such as 'lin_0.001' starting there)"
    elif lo is None or hi is None:
        text = f"a finite number {text}".rstrip()
    text += "".join(f", or {v!r}" for v in rule.also) + (", or None" if rule.optional else "")
    return text + (f" ({rule.why})" if rule.why else "")


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _shown(value) -> str:
    if _is_number(value):
        return _num(value) if isinstance(value, numbers.Integral) else repr(float(value))
    return f"{type(value).__name__} {value!r}"


def _fail(name: str, rule: Rule, value) -> ValueError:
    return ValueError(f"{name} must be {_describe(rule)}, got {_shown(value)}")


def _in_range(x: float, rule: Rule) -> bool:
    if not math.isfinite(x):
        return False
    if rule.low is not None and (x < rule.low or (rule.open_low and x == rule.low)):
        return False
    return rule.high is None or not (x > rule.high or (rule.open_high and x == rule.high))


def _check_number(name: str, value, rule: Rule, integer: bool) -> None:
    if not _is_number(value):
        raise _fail(name, rule, value)
    x = float(value)
    if integer and not isinstance(value, numbers.Integral) and not (math.isfinite(x) and x.is_integer()):
        raise _fail(name, rule, value)  # 1e6 (YAML, the CLI) is an int; 2.5 is not
    if not _in_range(x, rule) and value not in rule.also:
        raise _fail(name, rule, value)


def _check_schedule(name: str, value, rule: Rule) -> None:
    from .schedules import ConstantSchedule, LinearSchedule, get_schedule_fn

    if isinstance(value, (str, dict)):
        try:
            value = get_schedule_fn(value)
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"{name} must be {_describe(rule)}, got {value!r} ({exc})") from None
    if isinstance(value, LinearSchedule):
        start, end = value.initial, value.final
    elif isinstance(value, ConstantSchedule):
        start = end = value.value
    elif _is_number(value):
        start = end = float(value)
    elif callable(value):
        try:  # a user function: checked when it can be read at the start of training
            start = end = float(value(1.0))
        except Exception:  # noqa: BLE001 - an unreadable callable fails later, where it is used
            return
    else:
        raise _fail(name, rule, value)
    if not _in_range(float(start), rule):
        got = _shown(value) if _is_number(value) else f"a schedule starting at {_num(start)}"
        raise ValueError(f"{name} must be {_describe(rule)}, got {got}")
    if not math.isfinite(end) or (rule.low is not None and end < 0):
        raise ValueError(f"{name}'s schedule must end at a finite value >= 0, got {_num(end)}")


def _check_train_freq(name: str, value) -> None:
    freq, unit = (value if isinstance(value, (tuple, list)) and len(value) == 2 else (value, "step"))
    if isinstance(value, (str, Mapping)) or not _is_number(freq):
        raise ValueError(f"{name} must be an int or (n, 'step' | 'episode'), got {_shown(value)}")
    _check_number(name, freq, Rule("int", 1, MAX_COUNT), integer=True)
    if unit not in ("step", "episode"):
        raise ValueError(f"{name}'s unit must be 'step' or 'episode', got {unit!r}")


def _check_action_noise(name: str, value) -> None:
    from .noise import ActionNoise

    if isinstance(value, ActionNoise):
        return
    form = "an ActionNoise, its JSON form {'type': 'normal' | 'ornstein-uhlenbeck', 'mean', 'sigma'} or None"
    if not isinstance(value, Mapping) or value.get("type") not in ("normal", "ornstein-uhlenbeck"):
        raise ValueError(f"{name} must be {form}, got {_shown(value)}")
    keys = ("mean", "sigma") + (("theta", "dt") if value["type"] == "ornstein-uhlenbeck" else ())
    for key in keys:
        try:
            arr = np.asarray(value[key], dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{name}[{key!r}] must be a number or a list of numbers, got "
                             f"{value.get(key)!r}") from None
        if not np.isfinite(arr).all() or (key != "mean" and (arr < 0).any()):
            raise ValueError(f"{name}[{key!r}] must be finite{'' if key == 'mean' else ' and >= 0'}, "
                             f"got {value[key]!r}")


def _check_ent_coef(name: str, value) -> None:
    if isinstance(value, str) and (value == "auto" or value.startswith("auto_")):
        try:
            if _in_range(float(1.0 if value == "auto" else value[5:]), _POSITIVE):
                return
        except ValueError:
            pass
    elif _is_number(value) and _in_range(float(value), _NON_NEGATIVE):
        return
    raise ValueError(f"{name} must be 'auto', 'auto_<initial value > 0>' or a finite number >= 0, "
                     f"got {_shown(value)}")


def _check_dataset(name: str, value) -> None:
    """A dataset id or folder (str / PathLike), or a loaded one (rl.data's OfflineDataset or FlatDataset)."""
    loaded = hasattr(value, "episodes") or (hasattr(value, "observations") and hasattr(value, "sample"))
    if not (isinstance(value, (str, os.PathLike)) or loaded):
        raise ValueError(f"{name} must be a dataset id, a dataset folder, an OfflineDataset or a FlatDataset "
                         f"(rl.data), or None, got {type(value).__name__}")


def check_value(name: str, value, rule: Rule | None = None) -> None:
    """ValueError unless `value` fits `rule` (default: RULES[name])."""
    rule = RULES[name] if rule is None else rule
    kind = rule.kind
    if value is None and (rule.optional or kind in ("any", "none")):
        return
    if kind in ("int", "float"):
        _check_number(name, value, rule, integer=kind == "int")
    elif kind == "schedule":
        _check_schedule(name, value, rule)
    elif kind == "bool":
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    elif kind in ("str", "path"):
        if not isinstance(value, str) and not (kind == "path" and isinstance(value, os.PathLike)):
            raise ValueError(f"{name} must be a {'path' if kind == 'path' else 'string'}"
                             f"{' or None' if rule.optional else ''}, got {_shown(value)}")
    elif kind in ("dict", "normalize"):
        if not isinstance(value, Mapping) and not (kind == "normalize" and isinstance(value, (bool, np.bool_))):
            raise ValueError(f"{name} must be a dict{' or a bool' if kind == 'normalize' else ''}"
                             f"{' or None' if rule.optional else ''}, got {_shown(value)}")
        if isinstance(value, Mapping):
            for key, sub in NESTED.get(name, {}).items():
                if key in value:
                    check_value(f"{name}[{key!r}]", value[key], sub)
    elif kind == "train_freq":
        _check_train_freq(name, value)
    elif kind == "action_noise":
        _check_action_noise(name, value)
    elif kind == "ent_coef":
        _check_ent_coef(name, value)
    elif kind == "target_entropy":
        if value != "auto" and not (_is_number(value) and math.isfinite(float(value))):
            raise ValueError(f"{name} must be 'auto' or a finite number, got {_shown(value)}")
    elif kind == "replay_buffer_class":
        from .replay_buffer import resolve_replay_buffer_class

        resolve_replay_buffer_class(value)  # a class, or the name of a registered one
    elif kind == "none":
        raise ValueError(f"{name} must be None ({rule.why}), got {_shown(value)}")
    elif kind == "choice":
        if not isinstance(value, str) or value not in rule.also:
            raise ValueError(f"{name} must be one of {', '.join(map(repr, rule.also))}, got {_shown(value)}")
    elif kind == "dataset":
        _check_dataset(name, value)
    elif kind == "net_arch":
        if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= MAX_NET_DEPTH or not all(
                isinstance(w, numbers.Integral) and not isinstance(w, bool) and 1 <= w <= MAX_NET_WIDTH
                for w in value):
            raise ValueError(f"{name} must be a list of 1 to {MAX_NET_DEPTH} layer widths in [1, {MAX_NET_WIDTH}], "
                             f"got {_shown(value)}")


def check_rollout_size(n_steps: int, n_envs: int, normalize_advantage: bool = False) -> None:
    """n_steps * n_envs within MAX_ROLLOUT, and > 1 when advantages are normalised (SB3's rule)."""
    size = int(n_steps) * int(n_envs)
    if size > MAX_ROLLOUT:
        raise ValueError(f"n_steps * n_envs must be <= {MAX_ROLLOUT:,} (the rollout buffer holds them all), "
                         f"got {int(n_steps):,} * {int(n_envs):,} = {size:,}")
    if normalize_advantage and size <= 1:
        raise ValueError(f"n_steps * n_envs must be > 1 when normalize_advantage=True, got {size} "
                         "(advantages are normalised over the rollout)")


def check_hyperparameters(algo_name: str, params: dict) -> None:
    """ValueError for the first hyperparameter in `params` that `algo_name` does not take or that is out of range.

    algo_name: a class name ("PPO", "DoubleDQN", "QLearning", "OffPolicyAlgorithm"...) in any
    case, underscores ignored. params: constructor arguments, or a checkpoint's saved ones (schedule
    JSON, train_freq as [n, unit], action_noise as a dict, replay_buffer_class as a name). Builds nothing.
    """
    algo = _CANONICAL.get(str(algo_name).replace("_", "").lower())
    if algo is None:
        raise ValueError(f"unknown algorithm {algo_name!r}; known: {', '.join(ALGORITHM_PARAMS)}")
    accepted, overrides = ALGORITHM_PARAMS[algo], OVERRIDES.get(algo, {})
    for name, value in params.items():
        if name not in accepted:
            raise ValueError(f"{algo} does not take the hyperparameter {name!r}; it takes "
                             f"{', '.join(sorted(accepted))}")
        check_value(name, value, overrides.get(name))
    # rules between two values
    normalized = algo in ("PPO", "RecurrentPPO", "GAIL") and bool(params.get("normalize_advantage", False))
    if normalized and params.get("batch_size", 2) <= 1:
        raise ValueError(f"batch_size must be > 1 when normalize_advantage=True (advantages are normalised "
                         f"per minibatch, as SB3 requires), got {params['batch_size']}")
    gap = params.get("target_action_gap")
    if algo == "CQL" and params.get("lagrange") is True and _is_number(gap) and gap < 0:
        raise ValueError(f"lagrange=True tunes alpha' towards target_action_gap, which must then be >= 0 (the "
                         f"CQL paper uses 5 or 10), got {_shown(gap)}")
    if algo in _ON_POLICY and "n_steps" in params and "n_envs" in params:
        check_rollout_size(params["n_steps"], params["n_envs"], normalized)


def constructor_args(local_vars: dict) -> dict:
    """A constructor's `locals()` at its first line -> its hyperparameters (no self, policy, env, _private)."""
    return {k: v for k, v in local_vars.items() if k not in ("self", "policy", "env") and not k.startswith("_")}


# ---------------------------------------------------------------------------------- NaN / inf guards
def _first_bad(x: np.ndarray) -> tuple[int, str]:
    """(index along axis 0, "NaN" or "inf") of the first row holding a non-finite value."""
    x = np.asarray(x, dtype=np.float64)
    rows = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1) if x.ndim else np.array([True])
    i = int(np.flatnonzero(rows)[0])
    return i, "NaN" if np.isnan(x[i] if x.ndim else x).any() else "inf"


def _a(kind: str) -> str:
    return f"an {kind}" if kind == "inf" else f"a {kind}"


def _raise_env(x, what: str, step: int, env_ids=None) -> None:
    i, kind = _first_bad(x)
    env = i if env_ids is None else int(env_ids[i])
    raise ValueError(f"env {env} returned {_a(kind)} {what} at step {step:,} (num_timesteps); check the "
                     "environment and its wrappers")


def check_observations(obs, step: int, what: str = "observation", env_ids=None) -> None:
    """Batched observations (array or dict of arrays, env first) must be finite; `env_ids` maps rows to envs."""
    if isinstance(obs, dict):
        for key, v in obs.items():
            v = np.asarray(v)
            if v.dtype.kind == "f" and not np.isfinite(v).all():
                _raise_env(v, f"{what}[{key!r}]", step, env_ids)
        return
    obs = np.asarray(obs)
    if obs.dtype.kind == "f" and not np.isfinite(obs).all():
        _raise_env(obs, what, step, env_ids)


def check_env_step(obs, rewards, step: int) -> None:
    """A vector step's observations (array or dict of arrays, env first) and rewards must be finite."""
    check_observations(obs, step)
    if not np.isfinite(rewards).all():
        _raise_env(rewards, "reward", step)


def check_final_observations(infos: dict, env_ids, step: int) -> None:
    """infos["final_obs"][i] (the observation that ended env i's episode, used to bootstrap) must be finite."""
    final = infos.get("final_obs")
    if final is None:
        return
    for i in env_ids:
        row = {k: np.asarray(v)[None] for k, v in final[i].items()} if isinstance(final[i], dict) \
            else np.asarray(final[i])[None]
        check_observations(row, step, "final observation (infos['final_obs'])", env_ids=[i])


def check_actions(actions: np.ndarray, step: int) -> None:
    """Float actions from the policy must be finite (NaN weights give NaN actions)."""
    if actions.dtype.kind == "f" and not np.isfinite(actions).all():
        i, kind = _first_bad(actions)
        raise ValueError(f"the policy returned {_a(kind)} action for env {i} at step {step:,} (num_timesteps): "
                         "its weights have diverged; lower the learning rate or clip the gradients")


def check_finite_scalar(what: str, value: float, update: int, step: int) -> float:
    """`value` (a loss or gradient norm already converted to float) must be finite; returns it."""
    if not math.isfinite(value):
        raise ValueError(f"the {what} became {'NaN' if value != value else 'inf'} at update {update:,} "
                         f"(num_timesteps {step:,}); lower the learning rate, clip the gradients or "
                         "normalise the observations and rewards")
    return value


def check_reward(reward: Any, step: int) -> None:
    """A single env's reward must be finite (tabular agents)."""
    if not math.isfinite(float(reward)):
        kind = "NaN" if float(reward) != float(reward) else "inf"
        raise ValueError(f"the environment returned {_a(kind)} reward at step {step:,} (num_timesteps)")
