"""The schema of an agent checkpoint's metadata: every field's type, range and allowed names.

`validate_metadata(meta, algo_cls)` runs after the checksum and before anything is built; it
raises one `CheckpointError` naming the first bad field ("checkpoint field
hyperparameters.gamma: gamma must be in [0, 1], got 2.0"). Hyperparameter ranges come from
`rl.core.validation` (the same rules as the constructors); this module adds what only a file can
get wrong: unknown fields, spaces, policy_kwargs, counters, RNG states, and the size limits below,
which keep a small file from declaring a huge agent.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from . import validation
from .checkpoint_fields import (
    LIMITS,
    algo_spaces,
    check_bool,
    check_dict,
    check_int,
    check_keys,
    check_text,
    field_error,
    is_int,
    is_num,
    show,
    space,
    space_dims,
)
from .dict_replay_buffer import DictReplayBuffer
from .feature_extractors import resolve_features_extractor_class
from .networks import get_activation
from .policies import get_optimizer_class
from .replay_buffer import ReplayBuffer, resolve_replay_buffer_class

__all__ = ["validate_metadata", "LIMITS", "field_error", "space_dims", "init_parameters"]

_TOP = {"format", "format_version", "algo", "env_id", "policy", "observation_space", "action_space",
        "hyperparameters", "policy_kwargs", "normalize", "num_timesteps", "episode_num", "n_updates", "n_envs",
        "seed", "tensorboard_log", "verbose", "rng_state", "optimizer_state", "target_networks",
        "corenn_version", "resume"}
_NORMALIZE_KEYS = {"norm_obs", "norm_reward", "clip_obs", "clip_reward", "gamma", "epsilon", "training"}
_BUFFER_FIXED = {"buffer_size", "observation_space", "action_space", "n_envs", "optimize_memory_usage", "env",
                 "self"}


# ----------------------------------------------------------------------------- hyperparameters
def _hyperparameters(meta: dict, algo_cls) -> None:
    hp = check_dict("hyperparameters", meta.get("hyperparameters", {}))
    algo = next((c.__name__ for c in algo_cls.__mro__ if c.__name__ in validation.ALGORITHM_PARAMS), "BaseAlgorithm")
    for name, value in hp.items():
        try:
            validation.check_hyperparameters(algo, {name: value})
        except (ValueError, TypeError, KeyError, OverflowError) as e:
            raise field_error(f"hyperparameters.{name}", str(e)) from None
    try:
        validation.check_hyperparameters(algo, hp)
        if "n_steps" in hp and algo in ("PPO", "A2C", "REINFORCE", "RecurrentPPO"):
            validation.check_rollout_size(hp["n_steps"], meta.get("n_envs", 1))
    except (ValueError, TypeError, KeyError, OverflowError) as e:
        raise field_error("hyperparameters", str(e)) from None
    if "n_steps" in hp and "buffer_size" not in hp:  # on-policy: the rollout buffer holds n_steps x n_envs rows
        rows = hp["n_steps"] * meta.get("n_envs", 1)
        need = rows * 4 * (space_dims(meta["observation_space"])[0] + space_dims(meta["action_space"])[1] + 6)
        _fits("hyperparameters.n_steps", f"{rows} rollout rows (n_steps x n_envs)", need)
    _action_noise(hp, space_dims(meta["action_space"])[1])
    if {"buffer_size", "replay_buffer_class", "replay_buffer_kwargs"} & set(hp):
        _replay_buffer(meta, hp)


def _action_noise(hp: dict, act_dim: int) -> None:
    noise = hp.get("action_noise")
    if isinstance(noise, dict):
        check_keys("hyperparameters.action_noise", noise, {"type", "mean", "sigma", "theta", "dt"})
        for key in ("mean", "sigma"):
            size = np.size(noise[key]) if isinstance(noise[key], list) else 1
            if size not in (1, act_dim):
                raise field_error(f"hyperparameters.action_noise.{key}",
                                  f"has {size} entries; the action has {act_dim}")


def _replay_buffer(meta: dict, hp: dict) -> None:
    cls = resolve_replay_buffer_class(hp.get("replay_buffer_class"))
    if cls is None:  # the algorithm's default
        cls = DictReplayBuffer if meta["observation_space"]["type"] == "Dict" else ReplayBuffer
    kwargs = check_dict("hyperparameters.replay_buffer_kwargs", hp.get("replay_buffer_kwargs") or {})
    check_keys("hyperparameters.replay_buffer_kwargs", kwargs, set(inspect.signature(cls).parameters) - _BUFFER_FIXED)
    for key, value in kwargs.items():
        field = f"hyperparameters.replay_buffer_kwargs.{key}"
        if key in ("n_sampled_goal", "copy_info_dict", "handle_timeout_termination"):
            try:
                validation.check_value(key, value)
            except (ValueError, TypeError, OverflowError) as e:
                raise field_error(field, str(e)) from None
        elif key == "goal_selection_strategy":
            if value not in ("future", "final", "episode", 0, 1, 2) or isinstance(value, bool):
                raise field_error(field, f"expected 'future', 'final' or 'episode', got {show(value)}")
        elif key == "dtype":
            if value not in ("float16", "float32", "float64"):
                raise field_error(field, f"expected 'float16', 'float32' or 'float64', got {show(value)}")
        elif key == "seed":
            if value is not None:
                check_int(field, value, 0, 2**63 - 1)
        elif key == "device":
            check_text(field, value, optional=False)
        else:
            raise field_error(field, "cannot be restored from a file")
    size = hp.get("buffer_size", 1_000_000)
    obs_elems = space_dims(meta["observation_space"])[1]
    act_dim = space_dims(meta["action_space"])[1]
    itemsize = np.dtype(kwargs.get("dtype", "float32")).itemsize
    need = size * (2 * obs_elems * itemsize + 4 * act_dim + 8)
    _fits("hyperparameters.buffer_size", f"{size} transitions of {obs_elems} observation values", need)


def _fits(field: str, what: str, need: int) -> None:
    if need > LIMITS["buffer_bytes"]:
        raise field_error(field, f"{what} need {need / 2**30:.0f} GiB; the limit for a loaded agent is "
                                 f"{LIMITS['buffer_bytes'] >> 30} GiB")


# ----------------------------------------------------------------------------- policy_kwargs
def init_parameters(cls) -> set:
    """Named constructor arguments of `cls`, following **kwargs up its base classes."""
    names = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        params = inspect.signature(vars(klass)["__init__"]).parameters.values()
        names |= {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)} - {"self"}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names


def _arch(field: str, value) -> list:
    if not isinstance(value, list) or len(value) > LIMITS["depth"] or \
            not all(is_int(w) and 1 <= w <= LIMITS["width"] for w in value):
        raise field_error(field, f"expected a list of at most {LIMITS['depth']} layer widths in "
                                 f"[1, {LIMITS['width']}], got {show(value)}")
    return value


def _policy_kwargs(meta: dict, algo_cls) -> None:
    pk = check_dict("policy_kwargs", meta.get("policy_kwargs") or {})
    policy_cls = algo_cls.policy_aliases[meta.get("policy", "MlpPolicy")]
    allowed = init_parameters(policy_cls) - {"observation_space", "action_space", "lr_schedule"}
    check_keys("policy_kwargs", pk, allowed)
    for key, value in pk.items():
        field = f"policy_kwargs.{key}"
        if key == "net_arch":
            if isinstance(value, dict):
                check_keys(field, value, {"pi", "vf", "qf"})
                for sub, arch in value.items():
                    _arch(f"{field}.{sub}", arch)
            elif value is not None:
                _arch(field, value)
        elif key == "activation_fn":
            try:
                get_activation(value if isinstance(value, str) else None)
            except (ValueError, TypeError):
                raise field_error(field, f"unknown activation {show(value)}") from None
        elif key == "optimizer_class":
            try:
                get_optimizer_class(value if isinstance(value, str) else None)
            except ValueError:
                raise field_error(field, f"expected Adam, AdamW, RMSprop or SGD, got {show(value)}") from None
        elif key == "optimizer_kwargs":
            _optimizer_kwargs(field, value, pk.get("optimizer_class", "Adam"))
        elif key in ("ortho_init", "share_features_extractor", "normalize_images", "shared_lstm",
                     "enable_critic_lstm", "use_sde", "full_std", "use_expln"):
            check_bool(field, value)
        elif key == "features_extractor_class":
            _extractor_class(field, value)
        elif key == "features_extractor_kwargs":
            _extractor_kwargs(field, value, pk.get("features_extractor_class")
                              or getattr(policy_cls, "default_features_extractor", None))
        elif key == "log_std_init":
            if not is_num(value) or not -20 <= value <= 20:
                raise field_error(field, f"expected a number in [-20, 20], got {show(value)}")
        elif key == "n_critics":
            check_int(field, value, 1, LIMITS["n_critics"])
        elif key == "lstm_hidden_size":  # recurrent policies (rl.recurrent)
            check_int(field, value, 1, LIMITS["width"])
        elif key == "n_lstm_layers":
            check_int(field, value, 1, LIMITS["depth"])
        elif key == "lstm_kwargs":
            _lstm_kwargs(field, value)
        else:
            raise field_error(field, "cannot be restored from a file")


def _lstm_kwargs(field: str, value) -> None:
    """nn.LSTM's extra arguments of a recurrent policy: bias (bool), dropout (a number in [0, 1])."""
    if value is None:
        return
    kwargs = check_dict(field, value)
    check_keys(field, kwargs, {"bias", "dropout"})
    if "bias" in kwargs:
        check_bool(f"{field}.bias", kwargs["bias"])
    if "dropout" in kwargs and not (is_num(kwargs["dropout"]) and 0 <= kwargs["dropout"] <= 1):
        raise field_error(f"{field}.dropout", f"expected a number in [0, 1], got {show(kwargs['dropout'])}")


def _extractor_class(field: str, value):
    """A registered extractor name (classes are looked up in the registry, never imported from a path)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 200:
        raise field_error(field, f"expected the name of a registered features extractor, got {show(value)}")
    try:
        return resolve_features_extractor_class(value)
    except ValueError as e:
        raise field_error(field, str(e)) from None


def _extractor_kwargs(field: str, value, class_name) -> None:
    """At most 16 keyword arguments of the extractor class (a registered name, or the policy's default class),
    each a bool, a number (ints up to the width limit), a short string, None or a short list of those."""
    if value is None:
        return
    kwargs = check_dict(field, value)
    if len(kwargs) > 16:
        raise field_error(field, f"expected at most 16 entries, got {len(kwargs)}")
    cls = class_name if isinstance(class_name, type) else _extractor_class(field.replace("_kwargs", "_class"),
                                                                            class_name)
    if cls is not None:
        params = inspect.signature(cls).parameters
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            check_keys(field, kwargs, set(params) - {"self", "observation_space"})

    def ok(v) -> bool:
        if isinstance(v, bool) or v is None:
            return True
        if is_int(v):
            return 0 <= v <= LIMITS["width"]
        if isinstance(v, float):
            return math.isfinite(v)
        return isinstance(v, str) and len(v) <= 64
    for key, v in kwargs.items():
        if not (ok(v) or (isinstance(v, list) and len(v) <= LIMITS["depth"] and all(ok(x) for x in v))):
            raise field_error(f"{field}.{key}", f"expected a bool, a number (integers in [0, {LIMITS['width']}]), "
                                                f"a short string or a short list of them, got {show(v)}")


def _optimizer_kwargs(field: str, value, optimizer_class) -> None:
    kwargs = check_dict(field, value)
    cls = get_optimizer_class(optimizer_class)
    check_keys(field, kwargs, set(inspect.signature(cls).parameters) - {"params", "lr"})
    for key, v in kwargs.items():
        values = v if isinstance(v, list) and key == "betas" else [v]
        ok = all(isinstance(x, bool) or (is_num(x) and math.isfinite(x) and x >= 0) for x in values)
        if key == "betas":
            ok = ok and len(values) == 2 and all(is_num(x) and x < 1 for x in values)
        if key == "eps":
            ok = ok and is_num(v) and 0 < v <= 1
        if not ok:
            what = "two numbers in [0, 1)" if key == "betas" else "a finite number >= 0"
            raise field_error(f"{field}.{key}", f"expected {what}, got {show(v)}")


# ----------------------------------------------------------------------------- the rest
def _rng_state(field: str, value) -> None:
    state = check_dict(field, value)
    if state.get("bit_generator") != "PCG64":
        raise field_error(f"{field}.bit_generator", f"expected 'PCG64', got {show(state.get('bit_generator'))}")
    check_keys(field, state, {"bit_generator", "state", "has_uint32", "uinteger"})
    inner = check_dict(f"{field}.state", state.get("state"))
    check_keys(f"{field}.state", inner, {"state", "inc"})
    for key in ("state", "inc"):
        check_int(f"{field}.state.{key}", inner.get(key), 0, 2**128 - 1)
    check_int(f"{field}.has_uint32", state.get("has_uint32"), 0, 1)
    check_int(f"{field}.uinteger", state.get("uinteger"), 0, 2**32 - 1)


def _normalize(value) -> None:
    if isinstance(value, bool):
        return
    norm = check_dict("normalize", value)
    check_keys("normalize", norm, _NORMALIZE_KEYS)
    try:
        validation.check_value("normalize", norm)
    except (ValueError, TypeError, OverflowError) as e:
        raise field_error("normalize", str(e)) from None
    if "training" in norm:
        check_bool("normalize.training", norm["training"])


def validate_metadata(meta: dict, algo_cls) -> None:
    """CheckpointError naming the first field of `meta` (checksum removed) that breaks the schema."""
    check_keys("metadata", meta, _TOP)
    check_text("algo", meta.get("algo"), optional=False)
    check_text("env_id", meta.get("env_id"))
    check_text("corenn_version", meta.get("corenn_version"))
    check_text("tensorboard_log", meta.get("tensorboard_log"))
    policy = meta.get("policy", "MlpPolicy")
    if not isinstance(policy, str) or policy not in algo_cls.policy_aliases:
        raise field_error("policy", f"expected one of {sorted(algo_cls.policy_aliases)}, got {show(policy)} (an "
                                    "agent saved with a custom policy class loads with "
                                    "load(path, custom_objects={'policy_class': TheClass}))")
    for name in ("observation_space", "action_space"):
        if name not in meta:
            raise field_error(name, "is missing")
        space(name, meta[name])
    algo_spaces(meta, algo_cls)
    check_int("n_envs", meta.get("n_envs", 1), 1, validation.MAX_N_ENVS)
    for name in ("num_timesteps", "episode_num", "n_updates"):
        check_int(name, meta.get(name, 0), 0, LIMITS["count"])
    if meta.get("seed") is not None:
        check_int("seed", meta["seed"], 0, 2**63 - 2)
    check_int("verbose", meta.get("verbose", 0), 0, 2)
    for name in ("optimizer_state", "target_networks"):
        check_bool(name, meta.get(name, True))
    if "rng_state" in meta:
        _rng_state("rng_state", meta["rng_state"])
    _normalize(meta.get("normalize", False))
    _hyperparameters(meta, algo_cls)
    _policy_kwargs(meta, algo_cls)
    _resume(meta.get("resume", {}))


def _resume(value) -> None:
    """meta["resume"]: the run's state beyond weights (rl.core.resume_state)."""
    resume = check_dict("resume", value)
    check_keys("resume", resume, {"predict_rng_state", "progress_remaining", "exploration_rate", "n_calls",
                             "noise_rng_states", "has_last_obs"})
    if "predict_rng_state" in resume:
        _rng_state("resume.predict_rng_state", resume["predict_rng_state"])
    for key, low, high in (("progress_remaining", -1e15, 1.0), ("exploration_rate", 0.0, 1.0)):
        value = resume.get(key, low)
        if not is_num(value) or not low <= value <= high:
            raise field_error(f"resume.{key}", f"expected a number in [{low:g}, {high:g}], got {show(value)}")
    check_int("resume.n_calls", resume.get("n_calls", 0), 0, LIMITS["count"])
    check_bool("resume.has_last_obs", resume.get("has_last_obs", False))
    states = resume.get("noise_rng_states", [])
    if not isinstance(states, list) or len(states) > validation.MAX_N_ENVS:
        raise field_error("resume.noise_rng_states", f"expected a list of RNG states, got {show(states)}")
    for i, state in enumerate(states):
        _rng_state(f"resume.noise_rng_states[{i}]", state)
