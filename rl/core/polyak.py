"""Polyak (soft) target-network updates, in place: target <- (1 - tau) * target + tau * source."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["polyak_update", "hard_update"]

_scratch: dict = {}


def polyak_update(params: Iterable, target_params: Iterable, tau: float) -> None:
    """Soft update of `target_params` (Parameters or arrays) towards `params`, no allocation.

    tau = 1 copies the source; tau = 0 leaves the target unchanged.
    """
    tau = float(tau)
    for p, t in zip(params, target_params, strict=True):
        src = p.data if hasattr(p, "data") and not isinstance(p, np.ndarray) else p
        dst = t.data if hasattr(t, "data") and not isinstance(t, np.ndarray) else t
        if src.shape != dst.shape:
            raise ValueError(f"polyak_update: source shape {src.shape} != target shape {dst.shape}")
        if tau == 1.0:
            np.copyto(dst, src)
            continue
        buf = _scratch.get(dst.shape + (dst.dtype.str,))
        if buf is None:
            buf = _scratch[dst.shape + (dst.dtype.str,)] = np.empty_like(dst)
        np.multiply(src, tau, out=buf)
        np.multiply(dst, 1.0 - tau, out=dst)
        np.add(dst, buf, out=dst)


def hard_update(params: Iterable, target_params: Iterable) -> None:
    """Copy `params` into `target_params` in place (DQN's target network update)."""
    polyak_update(params, target_params, 1.0)
