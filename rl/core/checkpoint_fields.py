"""Checks for single fields of checkpoint metadata, and for the observation / action spaces it describes.

Each check raises `CheckpointError("checkpoint field <path>: <what is wrong>")`; `LIMITS` holds the
sizes a loaded agent may have. Used by `checkpoint_schema.validate_metadata`.
"""

from __future__ import annotations

import math

import numpy as np

from .checkpoint import CheckpointError

__all__ = ["LIMITS", "field_error", "space", "space_dims", "algo_spaces", "check_bool", "check_dict", "check_int",
           "check_keys", "check_text", "is_int", "is_num", "show"]

LIMITS = {
    "width": 4096,  # units in one hidden layer
    "depth": 16,  # hidden layers in one network
    "net_params": 2**24,  # weights in one network (64 MiB as float32)
    "n_critics": 10,
    "space_elements": 2**20,  # elements of one observation / action
    "space_keys": 64,  # entries of a Dict space
    "discrete_n": 2**20,
    "buffer_bytes": 2**36,  # address space of a replay / rollout buffer (allocated lazily, not touched at load)
    "count": 2**62,  # num_timesteps, episode_num, n_updates
    "text": 4096,  # env_id, corenn_version, tensorboard_log
}
_BOX_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
               "uint64"}


def field_error(field: str, message: str) -> CheckpointError:
    return CheckpointError(f"checkpoint field {field}: {message}")


def show(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_num(value) -> bool:
    """A JSON number that converts to a float (huge integers do not)."""
    return isinstance(value, float) or (is_int(value) and abs(value) < 2**63)


def check_int(field: str, value, low: int, high: int, why: str = "") -> int:
    if not is_int(value) or not low <= value <= high:
        extra = f" ({why})" if why else ""
        raise field_error(field, f"expected an integer in [{low:,}, {high:,}]{extra}, got {show(value)}")
    return value


def check_bool(field: str, value) -> None:
    if not isinstance(value, bool):
        raise field_error(field, f"expected true or false, got {show(value)}")


def check_text(field: str, value, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or len(value) > LIMITS["text"] or "\x00" in value:
        raise field_error(field, f"expected a string of at most {LIMITS['text']} characters"
                                 f"{' or null' if optional else ''}, got {show(value)}")


def check_dict(field: str, value) -> dict:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise field_error(field, f"expected an object with string keys, got {show(value)}")
    return value


def check_keys(field: str, value: dict, allowed) -> None:
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise field_error(f"{field}.{unknown[0]}", f"is not a known field here; expected one of {sorted(allowed)}")


# ----------------------------------------------------------------------------- spaces
def _numbers(field: str, value, count: int, dtype: np.dtype) -> np.ndarray:
    if not isinstance(value, list) or len(value) != count or not all(is_num(v) for v in value):
        raise field_error(field, f"expected a list of {count} numbers, got {show(value)}")
    arr = np.asarray(value, np.float64)
    if np.isnan(arr).any():
        raise field_error(field, "holds NaN")
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if not (np.isfinite(arr).all() and (arr >= info.min).all() and (arr <= info.max).all()):
            raise field_error(field, f"holds values outside the range of {dtype}")
    finite = arr[np.isfinite(arr)]
    if dtype.kind == "f" and finite.size and np.abs(finite).max() > np.finfo(dtype).max:
        raise field_error(field, f"holds finite values beyond the range of {dtype}")
    return arr


def _shape(field: str, value) -> tuple:
    if not isinstance(value, list) or not 1 <= len(value) <= 8 or not all(is_int(d) and d >= 1 for d in value):
        raise field_error(field, f"expected a list of 1 to 8 positive integers, got {show(value)}")
    if math.prod(value) > LIMITS["space_elements"]:
        raise field_error(field, f"has {math.prod(value)} elements; the limit is {LIMITS['space_elements']}")
    return tuple(value)


def space(field: str, desc, nested: bool = False) -> None:
    desc = check_dict(field, desc)
    kind = desc.get("type")
    if kind == "Box":
        check_keys(field, desc, {"type", "shape", "dtype", "low", "high"})
        shape = _shape(f"{field}.shape", desc.get("shape"))
        if not isinstance(desc.get("dtype"), str) or desc["dtype"] not in _BOX_DTYPES:
            raise field_error(f"{field}.dtype", f"expected one of {sorted(_BOX_DTYPES)}, "
                                                f"got {show(desc.get('dtype'))}")
        dtype = np.dtype(desc["dtype"])
        low = _numbers(f"{field}.low", desc.get("low"), math.prod(shape), dtype)
        high = _numbers(f"{field}.high", desc.get("high"), math.prod(shape), dtype)
        if (low > high).any():
            raise field_error(f"{field}.low", "is above high")
    elif kind == "Discrete":
        check_keys(field, desc, {"type", "n", "start"})
        check_int(f"{field}.n", desc.get("n"), 1, LIMITS["discrete_n"])
        check_int(f"{field}.start", desc.get("start", 0), -(2**62), 2**62)
    elif kind == "MultiDiscrete":
        check_keys(field, desc, {"type", "nvec"})
        nvec = desc.get("nvec")
        _shape(f"{field}.nvec", [len(nvec)] if isinstance(nvec, list) and nvec else None)
        for i, n in enumerate(nvec):
            check_int(f"{field}.nvec[{i}]", n, 1, LIMITS["discrete_n"])
    elif kind == "MultiBinary":
        check_keys(field, desc, {"type", "n"})
        n = desc.get("n")
        _shape(f"{field}.n", [n] if is_int(n) else n)
    elif kind == "Dict" and not nested:
        check_keys(field, desc, {"type", "spaces"})
        spaces = check_dict(f"{field}.spaces", desc.get("spaces"))
        if not 1 <= len(spaces) <= LIMITS["space_keys"] or any(len(k) > 64 for k in spaces):
            raise field_error(f"{field}.spaces", f"expected 1 to {LIMITS['space_keys']} entries with short names")
        for key, sub in spaces.items():
            space(f"{field}.spaces.{key}", sub, nested=True)
    else:
        raise field_error(f"{field}.type", f"expected Box, Discrete, MultiDiscrete, MultiBinary"
                                           f"{'' if nested else ' or Dict'}, got {show(kind)}")


def space_dims(desc: dict) -> tuple[int, int]:
    """(flat feature size as the policy sees it, elements stored per observation) of a validated space."""
    kind = desc["type"]
    if kind == "Dict":
        parts = [space_dims(s) for s in desc["spaces"].values()]
        return sum(p[0] for p in parts), sum(p[1] for p in parts)
    if kind == "Discrete":
        return desc["n"], 1
    size = {"Box": lambda: math.prod(desc["shape"]), "MultiDiscrete": lambda: len(desc["nvec"]),
            "MultiBinary": lambda: math.prod(desc["n"]) if isinstance(desc["n"], list) else desc["n"]}[kind]()
    return size, size


def algo_spaces(meta: dict, algo_cls) -> None:
    obs, act = meta["observation_space"], meta["action_space"]
    kinds = [obs] + (list(obs["spaces"].values()) if obs["type"] == "Dict" else [])
    for i, sub in enumerate(kinds):
        if sub["type"] not in ("Box", "Discrete", "MultiBinary", "Dict") or (i and sub["type"] == "Dict"):
            raise field_error("observation_space", f"a {sub['type']} observation space is not supported; "
                                                   "use Box, Discrete, MultiBinary or a Dict of them")
    allowed = [c.__name__ for c in algo_cls.supported_action_spaces]
    if act["type"] not in allowed:
        raise field_error("action_space.type", f"{algo_cls.algo_name} supports {allowed}, got {act['type']!r}")
    if act["type"] == "Discrete" and act.get("start", 0) != 0:
        raise field_error("action_space.start", f"Discrete actions must start at 0, got {act['start']}")
    if act["type"] == "Box":
        if len(act["shape"]) != 1:
            raise field_error("action_space.shape", f"Box actions must be 1-D, got {act['shape']}")
        if not (np.isfinite(act["low"]).all() and np.isfinite(act["high"]).all()):
            raise field_error("action_space.low", "Box actions need finite bounds")
