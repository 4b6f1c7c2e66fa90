"""Elementwise ops: arithmetic, exp/log family, comparisons-based selects."""
import numpy as np

from .common import Tensor, as_tensor, is_scalar, node, unbroadcast


def _pair(a, b):
    a = as_tensor(a)
    if is_scalar(b):
        return a, float(b)
    return a, as_tensor(b)


def add(a, b):
    a, b = _pair(a, b)
    if not isinstance(b, Tensor):
        return node(a.data + b, (a,), lambda g: (g,))
    sa, sb = a.data.shape, b.data.shape
    return node(a.data + b.data, (a, b), lambda g: (unbroadcast(g, sa), unbroadcast(g, sb)))


def sub(a, b):
    a, b = _pair(a, b)
    if not isinstance(b, Tensor):
        return node(a.data - b, (a,), lambda g: (g,))
    sa, sb = a.data.shape, b.data.shape
    return node(a.data - b.data, (a, b), lambda g: (unbroadcast(g, sa), unbroadcast(-g, sb)))


def rsub(a, b):
    """b - a."""
    if is_scalar(b):
        a = as_tensor(a)
        return node(float(b) - a.data, (a,), lambda g: (-g,))
    return sub(b, a)


def neg(a):
    return node(-a.data, (a,), lambda g: (-g,))


def mul(a, b):
    a, b = _pair(a, b)
    if not isinstance(b, Tensor):
        return node(a.data * b, (a,), lambda g: (g * b,))
    ad, bd = a.data, b.data

    def backward(g):
        ga = unbroadcast(g * bd, ad.shape) if a.requires_grad else None
        gb = unbroadcast(g * ad, bd.shape) if b.requires_grad else None
        return ga, gb
    return node(ad * bd, (a, b), backward)


def div(a, b):
    a, b = _pair(a, b)
    if not isinstance(b, Tensor):
        inv = 1.0 / b
        return node(a.data * inv, (a,), lambda g: (g * inv,))
    ad, bd = a.data, b.data
    out = ad / bd

    def backward(g):
        ga = g / bd
        gb = unbroadcast(-ga * out, bd.shape) if b.requires_grad else None
        return unbroadcast(ga, ad.shape), gb
    return node(out, (a, b), backward)


def rdiv(a, b):
    """b / a."""
    if is_scalar(b):
        a = as_tensor(a)
        out = float(b) / a.data
        return node(out, (a,), lambda g: (-g * out / a.data,))
    return div(b, a)


def pow(a, p):
    a, p = _pair(a, p)
    ad = a.data
    if not isinstance(p, Tensor):
        out = ad ** p
        if p == 2.0:
            return node(out, (a,), lambda g: (g * 2.0 * ad,))
        return node(out, (a,), lambda g: (g * p * ad ** (p - 1.0),))
    pd = p.data
    out = ad ** pd

    def backward(g):
        ga = unbroadcast(g * pd * ad ** (pd - 1), ad.shape) if a.requires_grad else None
        gp = unbroadcast(g * out * np.log(ad), pd.shape) if p.requires_grad else None
        return ga, gp
    return node(out, (a, p), backward)


def rpow(a, base):
    """base ** a for a scalar base."""
    a = as_tensor(a)
    if not is_scalar(base):
        return pow(as_tensor(base), a)
    out = float(base) ** a.data
    logb = float(np.log(base))
    return node(out, (a,), lambda g: (g * out * logb,))


def exp(a):
    out = np.exp(a.data)
    return node(out, (a,), lambda g: (g * out,))


def log(a):
    ad = a.data
    return node(np.log(ad), (a,), lambda g: (g / ad,))


def sqrt(a):
    out = np.sqrt(a.data)
    return node(out, (a,), lambda g: (g * 0.5 / out,))


def abs(a):
    ad = a.data
    return node(np.abs(ad), (a,), lambda g: (g * np.sign(ad),))


def _select(a, b, take_a, out):
    """Gradient routing for maximum/minimum/where: ``take_a`` marks where ``a`` won."""
    a, b = as_tensor(a), as_tensor(b)
    sa, sb = a.data.shape, b.data.shape

    def backward(g):
        ga = unbroadcast(np.where(take_a, g, 0.0).astype(g.dtype, copy=False), sa) if a.requires_grad else None
        gb = unbroadcast(np.where(take_a, 0.0, g).astype(g.dtype, copy=False), sb) if b.requires_grad else None
        return ga, gb
    return node(out, (a, b), backward)


def maximum(a, b):
    a, b = as_tensor(a), as_tensor(b)
    return _select(a, b, a.data >= b.data, np.maximum(a.data, b.data))


def minimum(a, b):
    a, b = as_tensor(a), as_tensor(b)
    return _select(a, b, a.data <= b.data, np.minimum(a.data, b.data))


def where(cond, a, b):
    cond = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
    a, b = as_tensor(a), as_tensor(b)
    cond = cond.astype(bool, copy=False)
    return _select(a, b, np.broadcast_to(cond, np.broadcast_shapes(cond.shape, a.shape, b.shape)),
                   np.where(cond, a.data, b.data))


def clip(a, min=None, max=None):
    ad = a.data
    out = np.clip(ad, min, max)
    inside = np.ones(ad.shape, dtype=bool)
    if min is not None:
        inside &= ad >= min
    if max is not None:
        inside &= ad <= max
    return node(out, (a,), lambda g: (g * inside,))


def astype(a, dtype):
    src = a.data.dtype
    return node(a.data.astype(dtype), (a,), lambda g: (g.astype(src),))
