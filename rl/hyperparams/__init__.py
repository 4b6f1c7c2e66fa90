"""rl-zoo3-style hyperparameter files ({algo}.yml) and a safe reader for their Python-looking strings.

rl-zoo3 writes values such as policy_kwargs: "dict(net_arch=[64, 64], activation_fn=nn.ReLU)" and
evaluates them with eval(). We parse them with `ast` instead and accept only literals (numbers,
strings, True/False/None, lists, tuples, {...} dicts), dict(key=value, ...) calls and the names of
activation functions and optimizers, which resolve to corenn classes. Nothing is executed.
"""

from __future__ import annotations

import ast
import inspect
import os

import gymnasium as gym
import numpy as np
import yaml

__all__ = ["HYPERPARAMS_DIR", "HyperparameterError", "available_algos", "read_yaml", "load_hyperparams",
           "parse_literal", "parse_cli_value", "parse_params", "resolve_name", "check_schedule",
           "preprocess_hyperparams", "accepted_kwargs", "check_kwargs", "make_action_noise"]

HYPERPARAMS_DIR = os.path.dirname(os.path.abspath(__file__))

ACTIVATIONS = ("ReLU", "Tanh", "ELU", "LeakyReLU", "Sigmoid", "GELU", "SiLU", "Softplus", "Identity")
OPTIMIZERS = ("Adam", "AdamW", "SGD", "RMSprop")
UNSUPPORTED_KEYS = ("env_wrapper", "vec_env_wrapper", "frame_stack", "callback", "use_sde",
                    "sde_sample_freq", "use_sde_at_warmup")


class HyperparameterError(ValueError):
    """A hyperparameter that cannot be used (unknown key, unsafe or unreadable value)."""


def available_algos() -> list[str]:
    return sorted(f[:-4] for f in os.listdir(HYPERPARAMS_DIR) if f.endswith(".yml"))


def read_yaml(algo: str) -> dict:
    """The whole {algo}.yml as a dict (env id -> hyperparameters)."""
    path = os.path.join(HYPERPARAMS_DIR, f"{algo}.yml")
    if not os.path.exists(path):
        raise FileNotFoundError(f"no hyperparameter file for {algo!r}; known: {', '.join(available_algos())}")
    with open(path) as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} must map env ids to hyperparameter dicts")
    return data


def load_hyperparams(algo: str, env_id: str) -> tuple[dict, str]:
    """(hyperparameters, entry name): the env's entry, or 'default' for envs not listed."""
    data = read_yaml(algo)
    key = env_id if env_id in data else "default"
    if key not in data:
        raise KeyError(f"{algo}.yml has no entry for {env_id!r} and no 'default' entry")
    return dict(data[key]), key


def resolve_name(dotted: str):
    """'nn.ReLU', 'th.nn.Tanh', 'ReLU' -> corenn.nn class; 'th.optim.Adam' -> corenn.optim class."""
    name = dotted.split(".")[-1]
    if name in ACTIVATIONS:
        import corenn.nn as module
    elif name in OPTIMIZERS:
        import corenn.optim as module
    else:
        raise ValueError(f"unknown name {dotted!r}: allowed are the activations {', '.join(ACTIVATIONS)} "
                         f"and the optimizers {', '.join(OPTIMIZERS)}")
    if not hasattr(module, name):
        raise ValueError(f"{dotted!r}: {module.__name__} has no {name}")
    return getattr(module, name)


def _dotted(node) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _read(node, text: str, resolve):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float))
            and not isinstance(node.operand.value, bool)):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    if isinstance(node, ast.List):
        return [_read(e, text, resolve) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_read(e, text, resolve) for e in node.elts)
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_read(k, text, resolve): _read(v, text, resolve) for k, v in zip(node.keys, node.values)}
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict"
            and not node.args and all(kw.arg is not None for kw in node.keywords)):
        return {kw.arg: _read(kw.value, text, resolve) for kw in node.keywords}
    dotted = _dotted(node)
    if dotted is not None:
        return resolve(dotted)
    raise ValueError(f"unsupported expression {ast.unparse(node)!r} in {text!r}: only literals, "
                     "dict(...), lists and activation/optimizer names are allowed")


def parse_literal(text: str, resolve=resolve_name):
    """Safely read a Python-looking value such as "dict(net_arch=[64, 64], activation_fn=nn.ReLU)".

    `resolve(dotted_name)` turns bare names into objects (default: corenn classes).
    """
    if not isinstance(text, str):
        raise TypeError(f"expected a string, got {type(text).__name__}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"cannot parse {text!r}: {exc.msg}") from None
    return _read(tree.body, text, resolve)


def parse_cli_value(text: str):
    """A `-params key:value` value: a Python literal if it is one (64, 1e-3, True, [64, 64], 'x'),
    otherwise the string itself (lin_0.001, auto, dict(net_arch=[64]) - read later)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def check_schedule(value) -> float:
    """Initial value of a number or an rl-zoo3 schedule string 'lin_X' (raises on anything else)."""
    if isinstance(value, bool):
        raise ValueError(f"a schedule cannot be a bool: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        for prefix in ("lin_", "linear_", ""):
            if text.startswith(prefix):
                try:
                    return float(text[len(prefix):])
                except ValueError:
                    continue
    raise ValueError(f"cannot read schedule {value!r}: expected a number or 'lin_<initial>' such as 'lin_0.001'")


def make_action_noise(noise_type: str, noise_std: float, action_space: gym.Space):
    """rl-zoo3's noise_type/noise_std -> NormalActionNoise or OrnsteinUhlenbeckActionNoise."""
    from rl.core.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

    if not isinstance(action_space, gym.spaces.Box):
        raise HyperparameterError(f"noise_type needs a continuous (Box) action space, got {action_space}")
    n = int(np.prod(action_space.shape))
    mean, sigma = np.zeros(n), float(noise_std) * np.ones(n)
    if noise_type == "normal":
        return NormalActionNoise(mean=mean, sigma=sigma)
    if noise_type == "ornstein-uhlenbeck":
        return OrnsteinUhlenbeckActionNoise(mean=mean, sigma=sigma)
    raise HyperparameterError(f"unknown noise_type {noise_type!r}; use 'normal' or 'ornstein-uhlenbeck'")


def _resolve_rl_class(name: str):
    import rl

    cls = getattr(rl, name.split(".")[-1], None)
    if cls is None:
        raise HyperparameterError(f"replay_buffer_class {name!r} is not available: "
                                  f"rl exports no {name.split('.')[-1]}")
    return cls


def _no_names(dotted: str):
    raise ValueError(f"unexpected name {dotted!r}")


def preprocess_hyperparams(hyperparams: dict, action_space: gym.Space) -> dict:
    """YAML/CLI values -> constructor kwargs (policy, n_timesteps and n_envs already removed).

    Parses policy_kwargs / replay_buffer_kwargs / normalize strings safely, turns noise_type and
    noise_std into `action_noise`, looks up replay_buffer_class in `rl`, train_freq list -> tuple.
    Schedule strings such as 'lin_0.001' are passed through (the algorithms read them).
    """
    kwargs = {}
    for key, value in hyperparams.items():
        if key in UNSUPPORTED_KEYS:
            raise HyperparameterError(f"hyperparameter {key!r} (rl-zoo3) is not supported here; remove it")
        try:
            if key in ("policy_kwargs", "replay_buffer_kwargs") and isinstance(value, str):
                value = parse_literal(value)
            elif key == "normalize" and isinstance(value, str):
                value = parse_literal(value, resolve=_no_names)
        except ValueError as exc:
            raise HyperparameterError(f"{key}: {exc}") from None
        if key == "train_freq" and isinstance(value, list):
            value = tuple(value)
        kwargs[key] = value
    noise_type = kwargs.pop("noise_type", None)
    noise_std = kwargs.pop("noise_std", 0.1)
    if noise_type is not None:
        kwargs["action_noise"] = make_action_noise(noise_type, noise_std, action_space)
    if isinstance(kwargs.get("replay_buffer_class"), str):
        kwargs["replay_buffer_class"] = _resolve_rl_class(kwargs["replay_buffer_class"])
    return kwargs


def accepted_kwargs(algo_cls) -> set | None:
    """Constructor argument names, following **kwargs up the base classes (None: accepts anything)."""
    names: set = set()
    for cls in algo_cls.__mro__:
        if "__init__" not in vars(cls) or cls is object:
            continue
        params = inspect.signature(cls.__init__).parameters
        names |= {k for k, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return names - {"self"}
    return None


def check_kwargs(algo_cls, kwargs: dict) -> None:
    """Every key must be a constructor argument of `algo_cls` (or of the bases its **kwargs reach)."""
    accepted = accepted_kwargs(algo_cls)
    unknown = [] if accepted is None else sorted(set(kwargs) - accepted)
    if unknown:
        shown = sorted(accepted - {"policy", "env"})
        raise HyperparameterError(f"{algo_cls.__name__} does not take {', '.join(unknown)}; "
                                  f"it takes {', '.join(shown)}")


def parse_params(items) -> dict:
    """['n_steps:64', 'learning_rate:lin_1e-3'] -> {'n_steps': 64, 'learning_rate': 'lin_1e-3'}."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition(":")
        if not sep or not key:
            raise HyperparameterError(f"-params expects key:value pairs, got {item!r}")
        out[key.strip()] = parse_cli_value(value.strip())
    return out
