"""rl-zoo3-style hyperparameter files ({algo}.yml) and a safe reader for their Python-looking strings.

rl-zoo3 writes values such as policy_kwargs: "dict(net_arch=[64, 64], activation_fn=nn.ReLU)" and
evaluates them with eval(). We parse them with `ast` instead and accept only literals (numbers,
strings, True/False/None, lists, tuples, {...} dicts), dict(key=value, ...) calls and the names of
activation functions and optimizers, which resolve to corenn classes. Nothing is executed.
"""

from __future__ import annotations

import ast
import os

import yaml

__all__ = ["HYPERPARAMS_DIR", "available_algos", "read_yaml", "load_hyperparams", "parse_literal",
           "parse_cli_value", "resolve_name", "check_schedule"]

HYPERPARAMS_DIR = os.path.dirname(os.path.abspath(__file__))

ACTIVATIONS = ("ReLU", "Tanh", "ELU", "LeakyReLU", "Sigmoid", "GELU", "SiLU", "Softplus", "Identity")
OPTIMIZERS = ("Adam", "AdamW", "SGD", "RMSprop")


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


def _eval(node, text: str, resolve):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float))
            and not isinstance(node.operand.value, bool)):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    if isinstance(node, ast.List):
        return [_eval(e, text, resolve) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_eval(e, text, resolve) for e in node.elts)
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_eval(k, text, resolve): _eval(v, text, resolve) for k, v in zip(node.keys, node.values)}
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict"
            and not node.args and all(kw.arg is not None for kw in node.keywords)):
        return {kw.arg: _eval(kw.value, text, resolve) for kw in node.keywords}
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
    return _eval(tree.body, text, resolve)


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
