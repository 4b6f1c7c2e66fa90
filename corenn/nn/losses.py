"""Loss functions (fused where hot) and their Module forms."""
import numpy as np

from .. import ops
from ..ops.common import as_tensor, node
from ..ops.fused import _reduce
from .module import Module


def _pointwise_loss(name, input, target, reduction, loss_and_grad, target_grad_sign=-1.0):
    """Shared plumbing for elementwise losses of d = input - target.
    ``loss_and_grad(d)`` -> (loss per element, d loss / d input per element)."""
    input, target = as_tensor(input), as_tensor(target)
    if input.shape != target.shape:
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise ValueError(f"{name}: input shape {input.shape} and target shape {target.shape} "
                             "do not broadcast") from None
    d = input.data - target.data
    loss, dloss = loss_and_grad(d)
    out, scale = _reduce(loss, reduction)
    out = np.asarray(out, dtype=d.dtype)
    si, st = input.shape, target.shape

    def backward(g):
        gi = dloss * (g * scale)
        return (ops.common.unbroadcast(gi, si) if input.requires_grad else None,
                ops.common.unbroadcast(target_grad_sign * gi, st) if target.requires_grad else None)
    return node(out, (input, target), backward)


def mse_loss(input, target, reduction="mean"):
    return _pointwise_loss("mse_loss", input, target, reduction, lambda d: (d * d, 2.0 * d))


def l1_loss(input, target, reduction="mean"):
    return _pointwise_loss("l1_loss", input, target, reduction, lambda d: (np.abs(d), np.sign(d)))


def huber_loss(input, target, reduction="mean", delta=1.0):
    def f(d):
        a = np.abs(d)
        quad = a <= delta
        return np.where(quad, 0.5 * d * d, delta * (a - 0.5 * delta)), np.clip(d, -delta, delta)
    return _pointwise_loss("huber_loss", input, target, reduction, f)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    if beta == 0.0:
        return l1_loss(input, target, reduction)

    def f(d):
        a = np.abs(d)
        quad = a < beta
        return np.where(quad, 0.5 * d * d / beta, a - 0.5 * beta), np.clip(d / beta, -1.0, 1.0)
    return _pointwise_loss("smooth_l1_loss", input, target, reduction, f)


def cross_entropy(input, target, reduction="mean", label_smoothing=0.0, ignore_index=-100):
    """Fused log-softmax + NLL from logits; see ops.fused.cross_entropy."""
    return ops.cross_entropy(input, target, reduction, label_smoothing, ignore_index)


def nll_loss(input, target, reduction="mean", ignore_index=-100):
    """Negative log-likelihood of log-probabilities (N, C) at class indices (N,)."""
    input = as_tensor(input)
    t = np.asarray(getattr(target, "data", target))
    if t.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: class-index targets must be integers, got dtype {t.dtype}")
    if input.ndim != 2 or t.shape != (input.shape[0],):
        raise ValueError(f"nll_loss expects input (N, C) and target (N,), got {input.shape} and {t.shape}")
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    picked = ops.getitem(input, (np.arange(len(t)), safe)) * valid.astype(input.dtype)
    if reduction == "none":
        return -picked
    if reduction == "sum":
        return -picked.sum()
    if reduction == "mean":
        return -picked.sum() / float(max(valid.sum(), 1))
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _no_target_grad(name, target):
    if getattr(target, "requires_grad", False):
        raise ValueError(f"{name}: gradients with respect to the target are not supported; "
                         "pass target.detach()")


def binary_cross_entropy(input, target, reduction="mean"):
    """BCE on probabilities in [0, 1]; log terms clamped at -100 as in PyTorch."""
    _no_target_grad("binary_cross_entropy", target)
    input = as_tensor(input)
    p, y = input.data, np.asarray(getattr(target, "data", target), dtype=input.dtype)
    if p.shape != y.shape:
        raise ValueError(f"binary_cross_entropy: input {p.shape} and target {y.shape} must match")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("binary_cross_entropy: input must be probabilities in [0, 1] "
                         "(use binary_cross_entropy_with_logits for logits)")
    with np.errstate(divide="ignore"):
        logp, log1mp = np.maximum(np.log(p), -100.0), np.maximum(np.log1p(-p), -100.0)
    loss = -(y * logp + (1.0 - y) * log1mp)
    out, scale = _reduce(loss, reduction)
    eps = 1e-12
    return node(np.asarray(out, dtype=p.dtype), (input,),
                lambda g: ((p - y) / np.maximum(p * (1.0 - p), eps) * (g * scale),))


def binary_cross_entropy_with_logits(input, target, reduction="mean", pos_weight=None):
    """Numerically stable sigmoid + BCE from logits."""
    _no_target_grad("binary_cross_entropy_with_logits", target)
    input = as_tensor(input)
    z, y = input.data, np.asarray(getattr(target, "data", target), dtype=input.dtype)
    if z.shape != y.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: input {z.shape} and target {y.shape} must match")
    pw = 1.0 if pos_weight is None else np.asarray(getattr(pos_weight, "data", pos_weight))
    coef = 1.0 + (pw - 1.0) * y
    softplus_neg = np.logaddexp(0.0, -z)
    loss = (1.0 - y) * z + coef * softplus_neg
    out, scale = _reduce(loss, reduction)
    sig_neg = np.exp(-np.logaddexp(0.0, z))
    return node(np.asarray(out, dtype=z.dtype), (input,),
                lambda g: (((1.0 - y) - coef * sig_neg) * (g * scale),))


class _Loss(Module):
    fn = None

    def __init__(self, reduction="mean", **kwargs):
        super().__init__()
        self.reduction, self.kwargs = reduction, kwargs

    def forward(self, input, target):
        return type(self).fn(input, target, reduction=self.reduction, **self.kwargs)


class MSELoss(_Loss):
    fn = staticmethod(mse_loss)


class L1Loss(_Loss):
    fn = staticmethod(l1_loss)


class HuberLoss(_Loss):
    fn = staticmethod(huber_loss)

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction, delta=delta)


class SmoothL1Loss(_Loss):
    fn = staticmethod(smooth_l1_loss)

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction, beta=beta)


class CrossEntropyLoss(_Loss):
    fn = staticmethod(cross_entropy)

    def __init__(self, reduction="mean", label_smoothing=0.0, ignore_index=-100):
        super().__init__(reduction, label_smoothing=label_smoothing, ignore_index=ignore_index)


class NLLLoss(_Loss):
    fn = staticmethod(nll_loss)

    def __init__(self, reduction="mean", ignore_index=-100):
        super().__init__(reduction, ignore_index=ignore_index)


class BCELoss(_Loss):
    fn = staticmethod(binary_cross_entropy)


class BCEWithLogitsLoss(_Loss):
    fn = staticmethod(binary_cross_entropy_with_logits)

    def __init__(self, reduction="mean", pos_weight=None):
        super().__init__(reduction, pos_weight=pos_weight)
