"""Agent checkpoints: one `.npz` file written by `corenn.save` (never pickled).

Stored object: {"metadata": JSON string, "data": nested arrays}. The metadata holds
{format: "corenn-agent", format_version, algo, env_id, observation_space, action_space,
hyperparameters, num_timesteps, corenn_version, ..., checksum}; the sha256 checksum covers the
metadata (without the checksum) and every array's path, dtype, shape and bytes, so a truncated
or edited file is reported instead of half-loaded. corenn.save writes atomically.

The checksum proves a file was not damaged, not who wrote it, so nothing in a file is trusted:
`load_agent(path, prepare=...)` lets the caller check the metadata (`checkpoint_schema`) and
every declared array shape before any array is read, and refuses NaN / inf anywhere in an
agent (weights, optimizer states, normaliser statistics, replay buffer).
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import gymnasium as gym
import numpy as np

import corenn
from corenn.serialization import CheckpointError as _CorennCheckpointError

from .preprocessing import transpose_space

__all__ = ["CheckpointError", "save_agent", "load_agent", "space_to_json", "space_from_json",
           "check_space_matches", "jsonable", "target_network_names", "target_copy_keys", "with_target_networks",
           "FORMAT", "FORMAT_VERSION", "agent_path", "check_finite", "walk_arrays", "read_replay_buffer"]

FORMAT = "corenn-agent"
FORMAT_VERSION = 1


class CheckpointError(_CorennCheckpointError):
    """A checkpoint cannot be used: names the reason (other algorithm, spaces, truncated, tampered)."""


def agent_path(path: str | os.PathLike) -> str:
    """SB3 habit: "ppo_cartpole" -> "ppo_cartpole.npz"."""
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


def jsonable(d: dict) -> dict:
    """A flat dict (optimizer_kwargs, ...) as JSON values: tuples -> lists, NumPy scalars -> Python."""
    return {k: list(v) if isinstance(v, tuple) else v.item() if isinstance(v, np.generic) else v
            for k, v in d.items()}


def _corenn_version() -> str:
    return str(getattr(corenn, "__version__", "unknown"))


def _hash_tree(h, obj: Any, path: str) -> None:
    """Feed a nested structure into `h` in a deterministic order."""
    if isinstance(obj, dict):
        h.update(f"{path}:dict{len(obj)}|".encode())
        for k in sorted(obj, key=repr):
            _hash_tree(h, obj[k], f"{path}/{k!r}")
    elif isinstance(obj, (list, tuple)):
        h.update(f"{path}:seq{len(obj)}|".encode())
        for i, v in enumerate(obj):
            _hash_tree(h, v, f"{path}/{i}")
    elif isinstance(obj, np.generic):  # corenn.save may store NumPy scalars as plain numbers
        h.update(f"{path}={obj.item()!r}|".encode())
    elif isinstance(obj, np.ndarray):
        a = np.ascontiguousarray(obj)
        h.update(f"{path}:{a.dtype.str}{a.shape}|".encode())
        h.update(a.tobytes())
    elif isinstance(getattr(obj, "data", None), np.ndarray):  # Tensor / Parameter
        _hash_tree(h, obj.data, path)
    else:
        h.update(f"{path}={obj!r}|".encode())


def _digest(meta: dict, data: Any) -> str:
    h = hashlib.sha256(json.dumps(meta, sort_keys=True).encode("utf-8"))
    _hash_tree(h, data, "")
    return h.hexdigest()


# ----------------------------------------------------------------------------- finite values
def walk_arrays(tree: Any, path: str = "", floats: bool = False):
    """Yield (path, value) for every array-like leaf (ndarray, Tensor, corenn ArraySpec) of a nested
    structure, and with `floats` every plain float too."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from walk_arrays(v, f"{path}/{k}" if path else str(k), floats)
    elif isinstance(tree, (list, tuple)) and not hasattr(tree, "dtype"):
        for i, v in enumerate(tree):
            yield from walk_arrays(v, f"{path}/{i}" if path else str(i), floats)
    elif isinstance(tree, (np.ndarray, np.generic)) or hasattr(tree, "dtype"):
        yield path, tree
    elif isinstance(getattr(tree, "data", None), np.ndarray):
        yield path, tree.data
    elif floats and isinstance(tree, float):
        yield path, tree


def _count_non_finite(arr: np.ndarray) -> int:
    flat = np.ascontiguousarray(arr).reshape(-1)
    step = 1 << 20  # bounded temporaries for large arrays
    return sum(int(flat.size - np.count_nonzero(np.isfinite(flat[i:i + step])))
               for i in range(0, flat.size, step))


def check_finite(tree: Any, what: str, skip: tuple = (), hint: str = "") -> None:
    """CheckpointError naming the first float tensor (or number) of `tree` holding NaN or inf; subtrees in `skip`
    are left out."""
    for path, value in walk_arrays(tree, floats=True):
        if path.split("/")[0] in skip:
            continue
        value = np.asarray(value)
        if value.dtype.kind in "fc":
            bad = _count_non_finite(value)
            if bad:
                raise CheckpointError(f"{what}: tensor {path} holds NaN or inf ({bad} of {value.size} values)"
                                      f"{'; ' + hint if hint else ''}")


# ----------------------------------------------------------------------------- save / load
def save_agent(path: str | os.PathLike, arrays: dict, metadata: dict) -> str:
    """Write nested `arrays` (dicts/lists of ndarrays and JSON scalars) and `metadata` atomically.

    Every float tensor outside the replay buffer (whose `add` already refuses NaN / inf) must be
    finite; a CheckpointError names the first that is not, and no file is written.
    Returns the path written (".npz" appended when missing).
    """
    path = agent_path(path)
    check_finite(arrays, f"cannot save {path}", skip=("replay_buffer",),
                 hint="the agent has diverged (lower the learning rate, clip gradients, normalise observations)")
    meta = dict(metadata)
    meta.pop("checksum", None)
    meta.update(format=FORMAT, format_version=FORMAT_VERSION, corenn_version=_corenn_version())
    meta["checksum"] = _digest(meta, arrays)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    corenn.save({"metadata": json.dumps(meta, sort_keys=True), "data": arrays}, path)
    return path


def load_agent(path: str | os.PathLike, expected_algo: str | None = None, prepare=None) -> tuple[dict, dict]:
    """Read and validate a checkpoint -> (nested arrays, metadata). Raises CheckpointError naming the problem.

    `prepare(meta, skeleton)` (optional) runs after the metadata is parsed and before any array is
    read; `skeleton` is the "data" structure with a corenn.ArraySpec (dtype, shape) per array, so the
    caller can refuse a file whose declared shapes do not fit. It may raise CheckpointError.
    Afterwards the checksum is verified and every float tensor must be finite.
    """
    path = os.fspath(path)
    if not os.path.exists(path) and os.path.exists(agent_path(path)):
        path = agent_path(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r} (also tried {agent_path(path)!r})")
    parsed = {}

    def check(skeleton):
        parsed["meta"] = meta = _metadata(path, skeleton, expected_algo)
        if prepare is not None:
            prepare({k: v for k, v in meta.items() if k != "checksum"}, skeleton["data"])

    try:
        obj = corenn.load(path, check=check)
    except CheckpointError:
        raise
    except _CorennCheckpointError as e:
        raise CheckpointError(f"{path} is truncated, corrupted or not a checkpoint: {e}") from e
    meta = parsed["meta"]
    checksum = meta.pop("checksum", None)
    if checksum != _digest(meta, obj["data"]):
        raise CheckpointError(f"{path} failed its checksum: the file was modified or damaged after saving")
    check_finite(obj["data"], f"{path} cannot be loaded",
                 hint="an agent with NaN / inf values acts on garbage; load an earlier checkpoint")
    return obj["data"], meta


def _metadata(path: str, skeleton, expected_algo: str | None) -> dict:
    """The agent metadata of a corenn file's skeleton, with format, version and algorithm checked."""
    if not isinstance(skeleton, dict) or not isinstance(skeleton.get("metadata"), str) or "data" not in skeleton:
        raise CheckpointError(f"{path} is a corenn file but not an agent checkpoint (no agent metadata)")
    try:
        meta = json.loads(skeleton["metadata"])
    except (ValueError, RecursionError) as e:  # JSONDecodeError, or an integer of more than 4300 digits
        raise CheckpointError(f"{path}: agent metadata is corrupted ({type(e).__name__}: {str(e)[:200]})") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        fmt = meta.get("format") if isinstance(meta, dict) else None
        raise CheckpointError(f"{path} is not a corenn agent checkpoint (format={str(fmt)[:80]!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= FORMAT_VERSION:
        raise CheckpointError(f"{path} has format_version {str(version)[:40]!r}; this code reads 1 to {FORMAT_VERSION}")
    if not isinstance(meta.get("checksum"), str):
        raise CheckpointError(f"{path} has no checksum in its metadata")
    algo = meta.get("algo")
    if expected_algo is not None and str(algo).lower() != expected_algo.lower():
        raise CheckpointError(
            f"{path} holds a {str(algo)[:40]} agent, not {expected_algo}; load it with {str(algo)[:40]}.load(...)")
    return meta


def read_replay_buffer(path: str | os.PathLike, buffer) -> dict:
    """The state in a file written by `save_replay_buffer`, its declared shapes checked against `buffer`
    (`buffer.check_state`) before any array is read. Load it with `buffer.load_state_dict(state)`."""
    path = os.fspath(path)
    if not path.endswith(".npz") and os.path.exists(path + ".npz"):
        path += ".npz"

    def check(skeleton):
        if not isinstance(skeleton, dict) or skeleton.get("format") != "corenn-replay-buffer":
            raise CheckpointError(f"{path} is not a replay buffer written by save_replay_buffer")
        try:
            buffer.check_state(skeleton.get("state"))
        except ValueError as e:
            raise CheckpointError(f"{path}: {e}") from None

    try:
        return corenn.load(path, check=check)["state"]
    except CheckpointError:
        raise
    except _CorennCheckpointError as e:
        raise CheckpointError(f"{path} is truncated, corrupted or not a replay buffer file: {e}") from e


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
        shape, dtype = tuple(desc["shape"]), np.dtype(desc["dtype"])
        low = np.asarray(desc["low"], np.float64).reshape(shape).astype(dtype)
        high = np.asarray(desc["high"], np.float64).reshape(shape).astype(dtype)
        return gym.spaces.Box(low, high, shape=shape, dtype=dtype)
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
    """Raise CheckpointError if `space` differs in type/shape/size from the saved description. A channel-last
    image space (H, W, C) fits an agent saved with (C, H, W): agents transpose such images themselves."""
    now = space_to_json(space)
    keys = ("type", "shape", "n", "nvec", "spaces")
    a = {k: saved.get(k) for k in keys}
    b = {k: now.get(k) for k in keys}
    if a != b:
        flipped = space_to_json(transpose_space(space))
        if a == {k: flipped.get(k) for k in keys}:
            return
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


def target_network_names(policy_state: dict) -> set:
    """Top-level policy modules `X_target` that have an online `X` beside them (e.g. critic_target)."""
    names = {key.split(".")[0] for key in policy_state}
    return {n for n in names if n.endswith("_target") and n[: -len("_target")] in names}


def target_copy_keys(policy_state) -> set:
    """Keys `X_target.rest` of a policy state that have an online `X.rest` beside them: what a file saved with
    exclude=["target_networks"] leaves out (a target's own extractor, when the online one is shared, stays)."""
    targets = target_network_names(policy_state)
    keys = set()
    for key in policy_state:
        head, _, rest = key.partition(".")
        if head in targets and f"{head[: -len('_target')]}.{rest}" in policy_state:
            keys.add(key)
    return keys


def with_target_networks(saved: dict, expected: dict) -> dict:
    """`saved` policy weights with every missing `X_target.*` entry copied from `X.*`."""
    full = dict(saved)
    for key in expected:
        head, _, rest = key.partition(".")
        if key not in full and head.endswith("_target"):
            online = f"{head[: -len('_target')]}.{rest}"
            if online not in saved:
                raise KeyError(f"{key} was left out of the file and its online network {online} is missing too")
            full[key] = np.array(saved[online], copy=True)
    return full
