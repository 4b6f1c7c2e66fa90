"""Numerically stable math on plain ndarrays (the one implementation of softmax and logsumexp:
the Tensor ops in corenn.ops.reduce and classical_ml call these).

Every function keeps a floating input's dtype (integers become float64) and
never overflows, even for inputs around +-1e4.
"""

from __future__ import annotations

import numpy as np

__all__ = ["logsumexp", "softmax", "log_softmax", "sigmoid", "log_sigmoid", "softplus"]


def _as_float(x) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    return x


def logsumexp(x, axis=None, keepdims: bool = False) -> np.ndarray:
    """log(sum(exp(x), axis)) computed with the max-shift trick.

    x: any shape; axis: int, tuple or None (all axes). Rows that are all
    -inf give -inf; +inf entries give +inf.
    """
    x = _as_float(x)
    m = x.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0).astype(x.dtype, copy=False)
    with np.errstate(divide="ignore"):
        out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    if not keepdims:
        out = np.squeeze(out, axis=axis) if axis is not None else out.reshape(())
    return out


def softmax(x, axis: int = -1) -> np.ndarray:
    """exp(x) / sum(exp(x)) along `axis`; same shape as x, rows sum to 1."""
    x = _as_float(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(x, axis: int = -1) -> np.ndarray:
    """x - logsumexp(x) along `axis`; same shape as x."""
    x = _as_float(x)
    return x - logsumexp(x, axis=axis, keepdims=True)


def sigmoid(x) -> np.ndarray:
    """1 / (1 + exp(-x)) elementwise, without overflow for large |x|."""
    x = _as_float(x)
    e = np.exp(-np.abs(x))  # in (0, 1], never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def softplus(x) -> np.ndarray:
    """log(1 + exp(x)) elementwise, stable for large |x|."""
    x = _as_float(x)
    return (np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))).astype(x.dtype, copy=False)


def log_sigmoid(x) -> np.ndarray:
    """log(sigmoid(x)) = -softplus(-x) elementwise, stable for large |x|."""
    return -softplus(-_as_float(x))
