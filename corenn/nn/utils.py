"""Gradient clipping in place (PyTorch's ``torch.nn.utils`` semantics)."""
import math

import numpy as np

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters):
    if hasattr(parameters, "grad"):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _total_norm(grads, norm_type):
    if norm_type == 2.0:
        total = 0.0
        for g in grads:
            flat = g.reshape(-1)
            total += float(np.dot(flat, flat))
        return math.sqrt(total)
    if norm_type == math.inf:
        return max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    if norm_type == -math.inf:
        return min(float(np.min(np.abs(g))) if g.size else math.inf for g in grads)
    if norm_type == 0.0:
        return float(sum(np.count_nonzero(g) for g in grads))
    norms = [float(np.linalg.norm(g.reshape(-1), norm_type)) for g in grads]
    return float(np.linalg.norm(np.array(norms), norm_type))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients in place so that their joint ``norm_type``-norm is at most
    ``max_norm`` (coefficient ``max_norm / (total + 1e-6)``, clamped to 1).

    ``parameters``: a Parameter or an iterable of them (those without grad are ignored).
    Returns the total norm before clipping, as a Python float. ``foreach`` is ignored.
    """
    grads = _grads(parameters)
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    total = _total_norm(grads, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    coef = float(max_norm) / (total + 1e-6)
    if not coef >= 1.0:  # also scales (to NaN) when the norm is NaN, as PyTorch does
        for g in grads:
            g *= coef
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient in place to ``[-clip_value, clip_value]``."""
    c = float(clip_value)
    for g in _grads(parameters):
        np.minimum(g, c, out=g)
        np.maximum(g, -c, out=g)
