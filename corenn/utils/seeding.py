"""One call to seed NumPy and Python's `random`, plus child-seed derivation."""

from __future__ import annotations

import random

import numpy as np

__all__ = ["set_seed", "derive_seeds", "make_rng"]


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return int(seed)


def set_seed(seed: int) -> np.random.Generator:
    """Seed `random` and NumPy's global RNG; return np.random.default_rng(seed)."""
    seed = _check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    return np.random.default_rng(seed)


def derive_seeds(seed: int, n: int) -> list[int]:
    """`n` independent child seeds (ints < 2**32) derived from `seed`.

    Deterministic; uses NumPy's SeedSequence so children are well separated
    (e.g. one per vectorised environment or worker).
    """
    seed = _check_seed(seed)
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    children = np.random.SeedSequence(seed).spawn(int(n))
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def make_rng(seed=None) -> np.random.Generator:
    """A Generator from an int seed, None (fresh entropy) or an existing Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(None if seed is None else _check_seed(seed))
