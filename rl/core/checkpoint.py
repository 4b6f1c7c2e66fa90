"""Agent checkpoints: one `.npz` file, never pickle.

Layout: arrays `a0, a1, ...` plus `__metadata__` (UTF-8 JSON as uint8). The JSON holds
{format: "corenn-agent", format_version, algo, env_id, observation_space, action_space,
hyperparameters, num_timesteps, corenn_version, ..., "data": skeleton, "checksum": sha256}, where
`skeleton` is the saved nested structure with each array replaced by {"__nd__": "aK"}. The
checksum covers the JSON (without the checksum) and every array's dtype, shape and bytes, so a
truncated or edited file is reported instead of half-loaded. Writes are atomic (temp file +
os.replace).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from typing import Any

import gymnasium as gym
import numpy as np

__all__ = ["CheckpointError", "save_agent", "load_agent", "space_to_json", "check_space_matches",
           "FORMAT", "FORMAT_VERSION", "agent_path"]

FORMAT = "corenn-agent"
FORMAT_VERSION = 1
_META_KEY = "__metadata__"


class CheckpointError(ValueError):
    """A checkpoint cannot be used: names the reason (other algorithm, spaces, truncated, tampered)."""


def agent_path(path: str | os.PathLike) -> str:
    """SB3 habit: "ppo_cartpole" -> "ppo_cartpole.npz"."""
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


def _corenn_version() -> str:
    try:
        from importlib.metadata import version
        return version("corenn")
    except Exception:  # noqa: BLE001 - not installed as a distribution
        return "unknown"


# ----------------------------------------------------------------------------- nested <-> flat
def _encode(obj: Any, arrays: dict) -> Any:
    if isinstance(obj, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = obj
        return {"__nd__": key}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, arrays) for k, v in obj.items()}
        return {"__items__": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    data = getattr(obj, "data", None)  # a corenn Tensor / Parameter
    if isinstance(data, np.ndarray):
        return _encode(data, arrays)
    raise TypeError(f"cannot store {type(obj).__name__} in a checkpoint (arrays, numbers, strings, dicts, lists only)")


def _decode(obj: Any, arrays) -> Any:
    if isinstance(obj, dict):
        if "__nd__" in obj:
            return arrays[obj["__nd__"]]
        if "__items__" in obj:
            return {_decode(k, arrays): _decode(v, arrays) for k, v in obj["__items__"]}
        if "__tuple__" in obj:
            return tuple(_decode(v, arrays) for v in obj["__tuple__"])
        return {k: _decode(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    return obj


def _digest(meta_json: bytes, arrays: dict) -> str:
    h = hashlib.sha256(meta_json)
    for key in sorted(arrays, key=lambda k: int(k[1:])):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}|{a.dtype.str}|{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _meta_bytes(meta: dict) -> bytes:
    return json.dumps(meta, sort_keys=True).encode("utf-8")


# ----------------------------------------------------------------------------- save / load
def save_agent(path: str | os.PathLike, arrays: dict, metadata: dict) -> str:
    """Write nested `arrays` (dicts/lists of ndarrays and JSON scalars) and `metadata` atomically.

    Returns the path written (".npz" appended when missing).
    """
    path = agent_path(path)
    flat: dict[str, np.ndarray] = {}
    skeleton = _encode(arrays, flat)
    meta = dict(metadata)
    meta.update(format=FORMAT, format_version=FORMAT_VERSION, corenn_version=_corenn_version(), data=skeleton)
    meta.pop("checksum", None)
    meta["checksum"] = _digest(_meta_bytes(meta), flat)
    flat[_META_KEY] = np.frombuffer(_meta_bytes(meta), dtype=np.uint8)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp_", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **flat)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _read_npz(path: str) -> tuple[dict, dict]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            names = list(npz.files)
            if _META_KEY not in names:
                raise CheckpointError(f"{path} is an .npz file but not a corenn agent checkpoint (no metadata)")
            flat = {k: npz[k] for k in names}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as e:
        raise CheckpointError(f"{path} is truncated or corrupted and cannot be read ({type(e).__name__}: {e})") from e
    raw = flat.pop(_META_KEY)
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: metadata is corrupted ({e})") from e
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: metadata is not a JSON object")
    return meta, flat


def load_agent(path: str | os.PathLike, expected_algo: str | None = None) -> tuple[dict, dict]:
    """Read and validate a checkpoint -> (nested arrays, metadata). Raises CheckpointError naming the problem."""
    path = os.fspath(path)
    if not os.path.exists(path) and os.path.exists(agent_path(path)):
        path = agent_path(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r} (also tried {agent_path(path)!r})")
    meta, flat = _read_npz(path)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a corenn agent checkpoint (format={meta.get('format')!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(f"{path} has format_version {version!r}; this code reads up to {FORMAT_VERSION}")
    checksum = meta.pop("checksum", None)
    if checksum != _digest(_meta_bytes(meta), flat):
        raise CheckpointError(f"{path} failed its checksum: the file was modified or damaged after saving")
    algo = meta.get("algo")
    if expected_algo is not None and str(algo).lower() != expected_algo.lower():
        raise CheckpointError(
            f"{path} holds a {algo} agent, not {expected_algo}; load it with {algo}.load(...)")
    return _decode(meta.pop("data"), flat), meta


# ----------------------------------------------------------------------------- spaces
def space_to_json(space: gym.Space) -> dict:
    """JSON description of a Box / Discrete / MultiDiscrete / MultiBinary / Dict space."""
    if isinstance(space, gym.spaces.Box):
        return {"type": "Box", "shape": list(space.shape), "dtype": str(space.dtype),
                "low": space.low.astype(np.float64).ravel().tolist(),
                "high": space.high.astype(np.float64).ravel().tolist()}
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gym.spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": space.nvec.tolist()}
    if isinstance(space, gym.spaces.MultiBinary):
        return {"type": "MultiBinary", "n": np.asarray(space.n).tolist()}
    if isinstance(space, gym.spaces.Dict):
        return {"type": "Dict", "spaces": {k: space_to_json(s) for k, s in space.spaces.items()}}
    return {"type": type(space).__name__}


def space_from_json(desc: dict) -> gym.Space:
    kind = desc.get("type")
    if kind == "Box":
        shape = tuple(desc["shape"])
        low = np.asarray(desc["low"], np.float64).reshape(shape)
        high = np.asarray(desc["high"], np.float64).reshape(shape)
        return gym.spaces.Box(low, high, shape=shape, dtype=np.dtype(desc["dtype"]))
    if kind == "Discrete":
        return gym.spaces.Discrete(desc["n"], start=desc.get("start", 0))
    if kind == "MultiDiscrete":
        return gym.spaces.MultiDiscrete(desc["nvec"])
    if kind == "MultiBinary":
        return gym.spaces.MultiBinary(desc["n"])
    if kind == "Dict":
        return gym.spaces.Dict({k: space_from_json(v) for k, v in desc["spaces"].items()})
    raise CheckpointError(f"cannot rebuild a {kind} space from a checkpoint")


def check_space_matches(saved: dict, space: gym.Space, what: str) -> None:
    """Raise CheckpointError if `space` differs in type/shape/size from the saved description."""
    now = space_to_json(space)
    keys = ("type", "shape", "n", "nvec", "spaces")
    a = {k: saved.get(k) for k in keys}
    b = {k: now.get(k) for k in keys}
    if a != b:
        raise CheckpointError(f"{what} space mismatch: the agent was saved for {_short(saved)}, "
                              f"the env has {_short(now)}")


def _short(desc: dict) -> str:
    if desc.get("type") == "Box":
        return f"Box(shape={tuple(desc['shape'])})"
    if desc.get("type") == "Discrete":
        return f"Discrete({desc['n']})"
    if desc.get("type") == "Dict":
        return "Dict(" + ", ".join(f"{k}: {_short(v)}" for k, v in desc["spaces"].items()) + ")"
    return str(desc.get("type"))
