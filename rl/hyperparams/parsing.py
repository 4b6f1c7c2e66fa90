"""A safe reader for the Python-looking strings of rl-zoo3 hyperparameter files and `-params`.

rl-zoo3 writes values such as policy_kwargs: "dict(net_arch=[64, 64], activation_fn=nn.ReLU)" and
evaluates them with eval(). We parse them with `ast` instead and accept only literals (numbers,
strings, True/False/None, lists, tuples, {...} dicts), dict(key=value, ...) calls and the names of
activation functions and optimizers, which resolve to corenn classes, and of registered features
extractors (NatureCNN, CombinedExtractor, FlattenExtractor, ...). Nothing is executed or imported.
"""

from __future__ import annotations

import ast

__all__ = ["HyperparameterError", "ACTIVATIONS", "OPTIMIZERS", "resolve_name", "parse_literal", "parse_cli_value",
           "parse_params", "check_schedule"]

ACTIVATIONS = ("ReLU", "Tanh", "ELU", "LeakyReLU", "Sigmoid", "GELU", "SiLU", "Softplus", "Identity")
OPTIMIZERS = ("Adam", "AdamW", "SGD", "RMSprop")


class HyperparameterError(ValueError):
    """A hyperparameter that cannot be used (unknown key, unsafe or unreadable value)."""


def resolve_name(dotted: str):
    """'nn.ReLU', 'th.nn.Tanh', 'ReLU' -> corenn.nn class; 'th.optim.Adam' -> corenn.optim class;
    'NatureCNN' (or 'stable_baselines3.common.torch_layers.NatureCNN') -> the registered features extractor."""
    from rl.core.feature_extractors import registered_features_extractors, resolve_features_extractor_class

    name = dotted.split(".")[-1]
    if name in ACTIVATIONS:
        import corenn.nn as module
    elif name in OPTIMIZERS:
        import corenn.optim as module
    elif name in registered_features_extractors():
        return resolve_features_extractor_class(name)
    else:
        raise ValueError(f"unknown name {dotted!r}: allowed are the activations {', '.join(ACTIVATIONS)}, "
                         f"the optimizers {', '.join(OPTIMIZERS)} and the features extractors "
                         f"{', '.join(registered_features_extractors())}")
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
                     "dict(...), lists and activation/optimizer/features extractor names are allowed")


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


def parse_params(items) -> dict:
    """['n_steps:64', 'learning_rate:lin_1e-3'] -> {'n_steps': 64, 'learning_rate': 'lin_1e-3'}."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition(":")
        if not sep or not key:
            raise HyperparameterError(f"-params expects key:value pairs, got {item!r}")
        out[key.strip()] = parse_cli_value(value.strip())
    return out


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
