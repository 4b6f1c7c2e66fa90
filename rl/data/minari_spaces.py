"""Gymnasium spaces as Minari writes them in metadata.json (`minari.serialization`), without minari.

    serialize_space(Box(-1, 1, (3,)))  -> '{"type": "Box", "dtype": "float32", "shape": [3], "low": [...], ...}'
    deserialize_space(text)            -> the space back

Box, Discrete, MultiDiscrete, MultiBinary and Dict (Minari's "subspaces" key) are supported; Tuple and Text
spaces raise a ValueError naming them (no algorithm here trains on them).
"""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np

__all__ = ["serialize_space", "deserialize_space", "space_to_dict", "space_from_dict"]


def space_to_dict(space: gym.Space) -> dict:
    """The JSON-able dict Minari stores for `space` (same keys, same order)."""
    if isinstance(space, gym.spaces.Box):
        return {"type": "Box", "dtype": str(space.dtype), "shape": list(space.shape),
                "low": space.low.tolist(), "high": space.high.tolist()}
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "dtype": "int64", "start": int(space.start), "n": int(space.n)}
    if isinstance(space, gym.spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "dtype": str(space.dtype), "nvec": space.nvec.tolist(),
                "start": space.start.tolist()}
    if isinstance(space, gym.spaces.MultiBinary):
        return {"type": "MultiBinary", "n": np.asarray(space.n).tolist()}
    if isinstance(space, gym.spaces.Dict):
        return {"type": "Dict", "subspaces": {k: space_to_dict(s) for k, s in space.spaces.items()}}
    raise ValueError(f"cannot store a {type(space).__name__} space in a dataset; use Box, Discrete, "
                     "MultiDiscrete, MultiBinary or a Dict of them")


def serialize_space(space: gym.Space) -> str:
    """metadata.json's `observation_space` / `action_space` string."""
    return json.dumps(space_to_dict(space))


def space_from_dict(desc: dict, where: str = "space") -> gym.Space:
    """A space from Minari's dict; ValueError naming `where` and the bad key."""
    if not isinstance(desc, dict) or "type" not in desc:
        raise ValueError(f"{where}: expected a dict with a 'type', got {str(desc)[:80]}")
    kind = desc["type"]
    try:
        if kind == "Box":
            dtype = np.dtype(desc["dtype"])
            shape = tuple(int(d) for d in desc["shape"])
            return gym.spaces.Box(np.array(desc["low"], dtype=dtype), np.array(desc["high"], dtype=dtype),
                                  shape=shape, dtype=dtype)
        if kind == "Discrete":
            return gym.spaces.Discrete(int(desc["n"]), start=int(desc.get("start", 0)))
        if kind == "MultiDiscrete":
            return gym.spaces.MultiDiscrete(desc["nvec"], dtype=desc.get("dtype", "int64"), start=desc.get("start"))
        if kind == "MultiBinary":
            return gym.spaces.MultiBinary(desc["n"])
        if kind == "Dict":
            return gym.spaces.Dict({k: space_from_dict(v, f"{where}.{k}") for k, v in desc["subspaces"].items()})
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{where}: malformed {kind} space ({type(e).__name__}: {e})") from None
    raise ValueError(f"{where}: {kind!r} spaces are not supported here; use Box, Discrete, MultiDiscrete, "
                     "MultiBinary or a Dict of them")


def deserialize_space(text: str | dict, where: str = "space") -> gym.Space:
    """The space of a metadata.json string (or its parsed dict)."""
    if isinstance(text, str):
        try:
            text = json.loads(text)
        except ValueError as e:
            raise ValueError(f"{where}: not valid JSON ({e})") from None
    return space_from_dict(text, where)
