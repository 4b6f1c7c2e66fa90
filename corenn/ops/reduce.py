"""Reductions and normalised exponentials over axes.

``softmax`` is written as a ``corenn.autograd.Function`` on the ndarray helper in
``corenn.utils.math_utils``; the other ops build graph nodes directly.
"""
import builtins

import numpy as np

from ..autograd import Function
from ..utils import math_utils
from . import elementwise as ew
from . import movement as mv
from .common import expand_reduced, node, norm_axis, register_tensor_backward


def sum(x, axis=None, keepdims=False):
    shape = x.data.shape
    axes = norm_axis(axis, x.ndim)
    out = np.sum(x.data, axis=axes, keepdims=keepdims)
    return node(out, (x,), lambda g: (expand_reduced(g, shape, axes, keepdims),))


def mean(x, axis=None, keepdims=False):
    shape = x.data.shape
    axes = norm_axis(axis, x.ndim)
    n = int(np.prod([shape[a] for a in axes])) if axes else 1
    out = np.mean(x.data, axis=axes, keepdims=keepdims)
    inv = 1.0 / builtins.max(n, 1)
    return node(out, (x,), lambda g: (expand_reduced(g * inv, shape, axes, keepdims),))


def _extreme(x, axis, keepdims, fn):
    xd = x.data
    axes = norm_axis(axis, x.ndim)
    out_k = fn(xd, axis=axes, keepdims=True)

    def backward(g):
        mask = xd == out_k
        count = mask.sum(axis=axes, keepdims=True)
        gk = g if keepdims else np.expand_dims(g, axes)
        return (mask * (gk / count),)
    out = out_k if keepdims else np.squeeze(out_k, axis=axes)
    return node(out, (x,), backward)


def max(x, axis=None, keepdims=False):
    """Maximum; ties share the gradient equally."""
    return _extreme(x, axis, keepdims, np.max)


def min(x, axis=None, keepdims=False):
    return _extreme(x, axis, keepdims, np.min)


def var(x, axis=None, correction=1, keepdims=False):
    """Variance with Bessel's ``correction`` (PyTorch default 1)."""
    xd = x.data
    axes = norm_axis(axis, x.ndim)
    n = int(np.prod([xd.shape[a] for a in axes])) if axes else 1
    centered = xd - xd.mean(axis=axes, keepdims=True)
    denom = float(builtins.max(n - correction, 0))
    out = np.sum(centered * centered, axis=axes, keepdims=keepdims) / denom
    scale = 2.0 / denom

    def backward(g):
        gk = g if keepdims else np.expand_dims(g, axes)
        return (gk * scale * centered,)
    return node(out, (x,), backward)


def std(x, axis=None, correction=1, keepdims=False):
    from .elementwise import sqrt
    return sqrt(var(x, axis, correction, keepdims))


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over ``axis`` (None: all); its own forward, as the backward reuses exp(x - max)."""
    xd = x.data
    axes = norm_axis(axis, x.ndim)
    m = np.max(xd, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    e = np.exp(xd - m)
    s = e.sum(axis=axes, keepdims=True)
    out_k = np.log(s) + m

    def backward(g):
        gk = g if keepdims else np.expand_dims(g, axes)
        return (gk * (e / s),)
    out = out_k if keepdims else np.squeeze(out_k, axis=axes)
    return node(out, (x,), backward)


class Softmax(Function):
    """exp(x) / sum(exp(x)) along ``axis``; same shape as x."""

    @staticmethod
    def forward(ctx, x, axis):
        out = math_utils.softmax(x, axis)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        go = g * out
        return go - out * go.sum(axis=ctx.axis, keepdims=True)


def softmax(x, axis=-1):
    return Softmax.apply(x, axis)


def log_softmax(x, axis=-1):
    xd = x.data
    shifted = xd - xd.max(axis=axis, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    def backward(g):
        return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)
    return node(out, (x,), backward)



# ---- Tensor-level backwards (create_graph=True), see corenn.autograd ---------------------------------
def sum_to(x, shape):
    """``unbroadcast`` on Tensors: sum ``x`` (a broadcast of ``shape``) down to ``shape``."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    return mv.reshape(sum(x, axes, keepdims=True), shape)


def _keep(g, shape, axes, keepdims):
    """A reduced gradient with the reduced axes kept as size 1 (broadcasts against the input)."""
    return g if keepdims else mv.reshape(g, tuple(1 if i in axes else n for i, n in enumerate(shape)))


@register_tensor_backward(sum)
def _sum_grad(node, g, saved, needs):
    return (mv.expand(_keep(g, saved.shape, saved.axes, saved.keepdims), saved.shape),)


@register_tensor_backward(mean)
def _mean_grad(node, g, saved, needs):
    return (mv.expand(_keep(ew.mul(g, saved.inv), saved.shape, saved.axes, saved.keepdims), saved.shape),)


@register_tensor_backward(_extreme)  # max, min: ties share the gradient
def _extreme_grad(node, g, saved, needs):
    mask = saved.xd == saved.out_k
    share = (mask / mask.sum(axis=saved.axes, keepdims=True)).astype(g.dtype)
    return (ew.mul(_keep(g, saved.xd.shape, saved.axes, saved.keepdims), share),)


@register_tensor_backward(var)
def _var_grad(node, g, saved, needs):
    (x,) = node._parents
    centered = ew.sub(x, mean(x, saved.axes, keepdims=True))
    return (ew.mul(_keep(g, x.shape, saved.axes, saved.keepdims), ew.mul(centered, saved.scale)),)


@register_tensor_backward(logsumexp)
def _logsumexp_grad(node, g, saved, needs):
    (x,) = node._parents
    lse = _keep(node, x.shape, saved.axes, saved.keepdims)
    return (ew.mul(_keep(g, x.shape, saved.axes, saved.keepdims), ew.exp(ew.sub(x, lse))),)


@register_tensor_backward(Softmax)
def _softmax_grad(node, g, ctx, needs):
    go = ew.mul(g, node)
    return (ew.sub(go, ew.mul(node, sum(go, ctx.axis, keepdims=True))),)


@register_tensor_backward(log_softmax)
def _log_softmax_grad(node, g, saved, needs):
    return (ew.sub(g, ew.mul(ew.exp(node), sum(g, saved.axis, keepdims=True))),)
