"""Hyperparameter range checks and the NaN/inf guards of the training loops.

`check_hyperparameters(algo_name, params)` checks constructor arguments, or a checkpoint's saved
hyperparameters in their JSON forms, against one table (`RULES`, with per-algorithm `OVERRIDES`
and the names each algorithm takes in `ALGORITHM_PARAMS`, all in `hyperparameter_tables.py` and
re-exported here) and builds nothing. The `check_*` guards below it follow SB3's VecCheckNan: one
`np.isfinite(x).all()` per array per step, and a ValueError naming the env index and the step
(num_timesteps), or the loss and the update.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

# the tables live in hyperparameter_tables.py; their public names stay importable from here
from .hyperparameter_tables import (
    _CANONICAL,
    _NON_NEGATIVE,
    _ON_POLICY,
    _POSITIVE,
    ALGORITHM_PARAMS,
    MAX_BATCH_SIZE,
    MAX_BUFFER_SIZE,
    MAX_COUNT,
    MAX_N_ENVS,
    MAX_NET_DEPTH,
    MAX_NET_WIDTH,
    MAX_ROLLOUT,
    MBPO_RULES,
    NESTED,
    OVERRIDES,
    RULES,
    Rule,
)

__all__ = ["Rule", "RULES", "NESTED", "OVERRIDES", "ALGORITHM_PARAMS", "check_hyperparameters", "check_value",
           "constructor_args", "check_rollout_size", "check_observations", "check_env_step",
           "check_final_observations", "check_actions", "check_finite_scalar", "check_reward", "MAX_BUFFER_SIZE",
           "MAX_ROLLOUT", "MAX_BATCH_SIZE", "MAX_N_ENVS", "MBPO_RULES"]


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
    if isinstance(value, str) and value in rule.also:  # a named setting beside the numbers ("auto")
        return
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
