"""Fused ops for hot paths: softmax-cross-entropy and mean/variance normalisation."""
import numpy as np

from . import elementwise as ew
from . import reduce as rd
from .common import Tensor, as_tensor, node, norm_axis, register_tensor_backward


def _reduce(loss, reduction, count=None):
    if reduction == "none":
        return loss, 1.0
    if reduction == "sum":
        return loss.sum(), 1.0
    if reduction == "mean":
        n = loss.size if count is None else count
        return loss.sum() / max(n, 1), 1.0 / max(n, 1)
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def cross_entropy(logits, target, reduction="mean", label_smoothing=0.0, ignore_index=-100):
    """Softmax cross-entropy from logits (N, C) or (N, C, d1, ...) and class indices
    (N,) / (N, d1, ...) or class probabilities of the logits' shape."""
    logits = as_tensor(logits)
    z = logits.data
    if z.ndim == 0:
        raise ValueError("cross_entropy: logits must have a class dimension")
    class_axis = 0 if z.ndim == 1 else 1
    n_classes = z.shape[class_axis]
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    shifted = z - z.max(axis=class_axis, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=class_axis, keepdims=True))
    logp = shifted - log_sum
    eps = float(label_smoothing)
    if t.shape == z.shape and t.dtype.kind == "f":
        q = t * (1.0 - eps) + eps / n_classes
        valid = None
    else:
        if t.dtype.kind not in "iu":
            raise TypeError(f"cross_entropy: class-index targets must be integers, got dtype "
                            f"{t.dtype} (for soft targets pass probabilities shaped like the logits {z.shape})")
        expected = z.shape[:class_axis] + z.shape[class_axis + 1:]
        if t.shape != expected:
            raise ValueError(f"cross_entropy: target shape {t.shape} does not match logits "
                             f"{z.shape}; expected {expected}")
        valid = t != ignore_index
        safe = np.where(valid, t, 0)
        if np.any((safe < 0) | (safe >= n_classes)):
            raise IndexError(f"cross_entropy: target holds class indices outside [0, {n_classes})")
        q = np.zeros_like(z)
        np.put_along_axis(q, np.expand_dims(safe, class_axis), 1.0, axis=class_axis)
        if eps:
            q = q * (1.0 - eps) + eps / n_classes
        if not valid.all():
            q *= np.expand_dims(valid, class_axis)
    loss = -(q * logp).sum(axis=class_axis)
    count = None if valid is None else int(valid.sum())
    out, scale = _reduce(loss, reduction, count)
    out = np.asarray(out, dtype=z.dtype)
    q_total = q.sum(axis=class_axis, keepdims=True)

    def backward(g):
        gk = np.expand_dims(g, class_axis) if reduction == "none" else g
        return ((np.exp(logp) * q_total - q) * (gk * scale),)
    return node(out, (logits,), backward)


def normalize(x, axis, eps=1e-5):
    """(x - mean) / sqrt(var + eps) over ``axis`` (biased variance), with a fused gradient.
    Returns (normalised tensor, mean ndarray, biased var ndarray)."""
    x = as_tensor(x)
    xd = x.data
    axes = norm_axis(axis, xd.ndim)
    mu = xd.mean(axis=axes, keepdims=True)
    centered = xd - mu
    var = (centered * centered).mean(axis=axes, keepdims=True)
    rstd = 1.0 / np.sqrt(var + eps)
    xhat = centered * rstd

    def backward(g):
        gm = g.mean(axis=axes, keepdims=True)
        gxm = (g * xhat).mean(axis=axes, keepdims=True)
        return (rstd * (g - gm - xhat * gxm),)
    return node(xhat, (x,), backward), mu, var


# ---- Tensor-level backward of normalize (create_graph=True), see corenn.autograd ----------------------
def _rsqrt_shifted(var, rstd):
    """(var + eps) ** -1/2 as a node of ``var`` (a Tensor), given its value ``rstd``: the gradient
    -rstd^3 / 2 needs no eps."""
    return node(rstd, (var,), lambda g: (g * (-0.5 * rstd ** 3),))


@register_tensor_backward(_rsqrt_shifted)
def _rsqrt_shifted_grad(node, g, saved, needs):
    return (ew.mul(g, ew.mul(ew.pow(node, 3.0), -0.5)),)


@register_tensor_backward(normalize)
def _normalize_grad(node, g, saved, needs):
    (x,), axes = node._parents, saved.axes
    centered = ew.sub(x, rd.mean(x, axes, keepdims=True))
    rstd = _rsqrt_shifted(rd.mean(ew.mul(centered, centered), axes, keepdims=True), saved.rstd)
    gm = rd.mean(g, axes, keepdims=True)
    gxm = rd.mean(ew.mul(g, node), axes, keepdims=True)
    return (ew.mul(rstd, ew.sub(ew.sub(g, gm), ew.mul(node, gxm))),)
