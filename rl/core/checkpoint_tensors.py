"""An agent file's arrays checked against the agent they will be loaded into, before any is read or assigned.

Every function here accepts real arrays or corenn `ArraySpec`s (dtype and shape as the file declares
them), so `BaseAlgorithm.load` runs them on the file's skeleton before reading any data, and
`set_parameters` runs them on arrays before assigning any. Errors are CheckpointErrors that name
the tensor and give expected vs found.
"""

from __future__ import annotations

import math

import numpy as np

from .checkpoint import CheckpointError, space_from_json, target_copy_keys, walk_arrays
from .checkpoint_fields import LIMITS, field_error, space_dims
from .checkpoint_schema import init_parameters
from .policies import default_features_extractor, uses_raw_observations

__all__ = ["check_module_state", "check_optimizer_state", "check_params", "check_declared_policy_size",
           "policy_size_lower_bound", "is_array"]

_RMS_KEYS = {"mean", "var", "count"}
# per-parameter state of corenn's optimizers: (entries always there, entries some settings add)
_STATE_KEYS = {"Adam": ({"step", "exp_avg", "exp_avg_sq"}, {"max_exp_avg_sq"}),
               "RMSprop": ({"step", "square_avg"}, {"momentum_buffer", "grad_avg"}),
               "SGD": ({"momentum_buffer"}, set())}


def _state_keys(optimizer) -> tuple[set, set] | None:
    return next((_STATE_KEYS[k.__name__] for k in type(optimizer).__mro__ if k.__name__ in _STATE_KEYS), None)


def is_array(value) -> bool:
    """An ndarray, NumPy scalar or ArraySpec (anything with dtype and shape)."""
    return hasattr(value, "dtype") and hasattr(value, "shape")


def _desc(value) -> str:
    return f"{np.dtype(value.dtype)} {tuple(value.shape)}" if is_array(value) else type(value).__name__


def _tensor(where: str, value, shape: tuple, dtype) -> None:
    if not is_array(value) or tuple(value.shape) != tuple(shape) or np.dtype(value.dtype) != np.dtype(dtype):
        raise CheckpointError(f"tensor {where} is {_desc(value)}; this agent expects {np.dtype(dtype)} {tuple(shape)}")


def check_module_state(where: str, saved, expected: dict) -> None:
    """`saved` must hold exactly the names of `expected` (name -> array), each with its shape and dtype."""
    if not isinstance(saved, dict):
        raise CheckpointError(f"{where} must be a dict of tensors, got {type(saved).__name__}")
    missing = [k for k in expected if k not in saved]
    unexpected = [str(k) for k in saved if k not in expected]
    if missing or unexpected:
        raise CheckpointError(f"{where} does not fit this agent: missing tensors {missing[:5]}, "
                              f"unexpected tensors {unexpected[:5]}")
    for name, target in expected.items():
        _tensor(f"{where}/{name}", saved[name], target.shape, target.dtype)


def _plain_like(where: str, value, current) -> None:
    """An optimizer hyperparameter: same kind as the current one, finite and >= 0 (betas in [0, 1))."""
    if isinstance(current, bool):
        ok = isinstance(value, bool)
    elif isinstance(current, (tuple, list)):
        ok = isinstance(value, (tuple, list)) and len(value) == len(current) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1 for v in value)
    elif isinstance(current, (int, float)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 2**63 \
            and math.isfinite(value)
    else:
        ok = value is None or isinstance(value, str)
    if not ok:
        text = repr(value)
        raise CheckpointError(f"{where} is {text if len(text) <= 60 else text[:57] + '...'}; "
                              f"expected a value like {current!r}")


def check_optimizer_state(where: str, saved, optimizer) -> None:
    """`saved` must be a state_dict() of `optimizer`: same groups, hyperparameter names, parameter indices
    and, per parameter, at most 8 state entries shaped like it (or a step count)."""
    if not isinstance(saved, dict) or set(saved) != {"state", "param_groups"}:
        raise CheckpointError(f"{where} must be a dict with exactly 'state' and 'param_groups'")
    groups = saved["param_groups"]
    if not isinstance(groups, list) or len(groups) != len(optimizer.param_groups):
        raise CheckpointError(f"{where}/param_groups must be a list of {len(optimizer.param_groups)} groups")
    index = {}
    for i, (group, sg) in enumerate(zip(optimizer.param_groups, groups)):
        if not isinstance(sg, dict):
            raise CheckpointError(f"{where}/param_groups/{i} must be a dict")
        ids = sg.get("params")
        if not isinstance(ids, list) or len(ids) != len(group["params"]) or not all(
                isinstance(j, int) and not isinstance(j, bool) for j in ids):
            raise CheckpointError(f"{where}/param_groups/{i}/params must list {len(group['params'])} parameter indices")
        for j, p in zip(ids, group["params"]):
            if j in index:
                raise CheckpointError(f"{where}/param_groups/{i}/params lists parameter {j} twice")
            index[j] = p
        names = set(group) - {"params"}
        if set(sg) - {"params"} != names:
            raise CheckpointError(f"{where}/param_groups/{i} has settings {sorted(map(str, set(sg) - {'params'}))}; "
                                  f"this optimizer has {sorted(names)}")
        for key in names:
            _plain_like(f"{where}/param_groups/{i}/{key}", sg[key], group[key])
    state = saved["state"]
    if not isinstance(state, dict):
        raise CheckpointError(f"{where}/state must be a dict")
    required, optional = _state_keys(optimizer) or (set(), None)
    for key, entry in state.items():
        if key not in index or isinstance(key, bool):
            raise CheckpointError(f"{where}/state refers to parameter {str(key)[:20]!r}, which no group lists")
        p = index[key].data
        if not isinstance(entry, dict) or len(entry) > 8 or not all(isinstance(k, str) for k in entry):
            raise CheckpointError(f"{where}/state/{key} must be a dict of at most 8 named entries")
        if optional is not None and not required <= set(entry) <= required | optional:
            raise CheckpointError(f"{where}/state/{key} has entries {sorted(entry)}; a {type(optimizer).__name__} "
                                  f"keeps {sorted(required)} (and maybe {sorted(optional)})")
        for name, value in entry.items():
            field = f"{where}/state/{key}/{name}"
            if name == "step":
                if isinstance(value, bool) or not (isinstance(value, int) and 0 <= value <= LIMITS["count"]):
                    raise CheckpointError(f"{field} must be a step count in [0, {LIMITS['count']}], "
                                          f"got {str(value)[:40]}")
            else:
                _tensor(field, value, p.shape, p.dtype)


def _module_tensors(module) -> dict:
    """name -> array of a Module's parameters and buffers (no copies)."""
    out = {name: p.data for name, p in module.named_parameters()}
    out.update((name, b) for name, b in module.named_buffers() if b is not None)
    return out


def check_params(model, params, require_optimizer: bool = True, with_targets: bool = True, exact_match: bool = True,
                 forbid_optimizer: bool = False, where: str = "params") -> None:
    """`params` (SB3 layout: "policy" and one entry per optimizer) must fit `model`'s policy and optimizers.

    exact_match=False accepts a subset of the policy's tensors (names it does not have are ignored)."""
    if not isinstance(params, dict):
        raise CheckpointError(f"{where} must be a dict, got {type(params).__name__}")
    optimizers = model._policy_optimizers()
    allowed = {"policy", *optimizers}
    unexpected = sorted(map(str, set(params) - allowed))
    if unexpected:
        raise CheckpointError(f"{where} has unexpected entries {unexpected}; this agent has {sorted(allowed)}")
    required = ["policy"] + (list(optimizers) if require_optimizer else [])
    missing = [k for k in required if k not in params]
    if missing and (exact_match or "policy" in missing):
        raise CheckpointError(f"{where} is missing {missing}")
    if forbid_optimizer and any(k in params for k in optimizers):
        raise CheckpointError(f"{where}: the file says it has no optimizer state but holds "
                              f"{[k for k in optimizers if k in params]}")
    expected = _module_tensors(model.policy)
    if not with_targets:
        copies = target_copy_keys(expected)
        expected = {k: v for k, v in expected.items() if k not in copies}
    saved = params["policy"]
    if not exact_match and isinstance(saved, dict):
        saved = {k: v for k, v in saved.items() if k in expected}
        expected = {k: v for k, v in expected.items() if k in saved}
    check_module_state(f"{where}/policy", saved, expected)
    for key, opt in optimizers.items():
        if key in params:
            check_optimizer_state(f"{where}/{key}", params[key], opt)


def check_rms_state(where: str, saved, shape: tuple) -> None:
    """A RunningMeanStd state: float64 mean and var of `shape` (plain floats when scalar), a scalar count."""
    if not isinstance(saved, dict) or set(saved) != _RMS_KEYS:
        raise CheckpointError(f"{where} must hold exactly {sorted(_RMS_KEYS)}")
    for key in ("mean", "var", "count"):
        value, want = saved[key], (shape if key != "count" else ())
        if want == () and isinstance(value, float):
            continue  # NumPy float64 scalars are stored as JSON numbers
        _tensor(f"{where}/{key}", value, want, np.float64)


def policy_size_lower_bound(meta: dict, algo_cls) -> int:
    """Fewest weights of the online networks a policy built from `meta` has; raises for a network over the limit."""
    features, _ = space_dims(meta["observation_space"])
    if _reads_raw_observations(meta, algo_cls):
        features = 1  # the networks read an extractor's output, whose size is known once it is built
    act = meta["action_space"]
    n_out = act["n"] if act["type"] == "Discrete" else space_dims(act)[1]
    pk = meta.get("policy_kwargs") or {}
    arch = pk.get("net_arch")
    if arch is None:
        return 0
    params = init_parameters(algo_cls.policy_aliases[meta.get("policy", "MlpPolicy")])

    def mlp(n_in: int, widths, n_last: int) -> int:
        dims = [n_in, *widths, n_last]
        return sum(a * b for a, b in zip(dims[:-1], dims[1:]))

    archs = arch if isinstance(arch, dict) else {"pi": arch, "vf": arch, "qf": arch}
    for name, widths in archs.items():
        if mlp(features + n_out, widths, n_out) > LIMITS["net_params"]:
            field = f"policy_kwargs.net_arch.{name}" if isinstance(arch, dict) else "policy_kwargs.net_arch"
            raise field_error(field, f"builds a network of more than {LIMITS['net_params']} weights (the limit)")
    total = mlp(features, archs.get("pi", []), n_out)
    if "n_critics" in params:
        total += pk.get("n_critics", 2) * mlp(features + n_out, archs.get("qf", []), 1)
    elif "ortho_init" in params:
        total += mlp(features, archs.get("vf", []), 1)
    return total


def _reads_raw_observations(meta: dict, algo_cls) -> bool:
    """True when the policy `meta` describes reads observations through a features extractor (images, CNNs)."""
    policy_cls = algo_cls.policy_aliases[meta.get("policy", "MlpPolicy")]
    try:
        space = space_from_json(meta["observation_space"])
        return uses_raw_observations(space, default_features_extractor(policy_cls, meta.get("policy_kwargs")))
    except (ValueError, TypeError, KeyError):
        return True


def check_declared_policy_size(meta: dict, algo_cls, skeleton: dict) -> None:
    """Before building: the policy that `meta` describes must not be larger than the weights the file declares."""
    params = skeleton.get("params") if isinstance(skeleton, dict) else None
    policy = params.get("policy") if isinstance(params, dict) else None
    if not isinstance(policy, dict):
        raise CheckpointError("the file holds no policy weights (params/policy)")
    declared = sum(math.prod(v.shape) for _, v in walk_arrays(policy))
    needed = policy_size_lower_bound(meta, algo_cls)
    if needed > declared:
        raise field_error("policy_kwargs.net_arch", f"describes networks of at least {needed} weights, but the "
                                                    f"file holds {declared}")
