"""Elementwise ops: arithmetic, exp/log family, comparisons-based selects."""
import numpy as np

from . import reduce as rd
from .common import Tensor, as_tensor, is_scalar, node, register_tensor_backward, unbroadcast


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
            return node(out, (a,), lambda g: (g * p * ad,))
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


# ---- Tensor-level backwards (create_graph=True): the formulas above written with these ops ----------
# Each gets the output ``node`` (inputs in ``node._parents``), the gradient Tensor ``g``, what the
# first-order closure captured (``saved``) and which inputs need a gradient (``needs``).
def _two(needs, ga, gb):
    """(ga(), gb()) for the inputs that need them."""
    return (ga() if needs[0] else None, gb() if needs[1] else None)


@register_tensor_backward(add)
def _add_grad(node, g, saved, needs):
    if len(node._parents) == 1:
        return (g,)
    a, b = node._parents
    return _two(needs, lambda: rd.sum_to(g, a.shape), lambda: rd.sum_to(g, b.shape))


@register_tensor_backward(sub)
def _sub_grad(node, g, saved, needs):
    if len(node._parents) == 1:
        return (g,)
    a, b = node._parents
    return _two(needs, lambda: rd.sum_to(g, a.shape), lambda: rd.sum_to(neg(g), b.shape))


@register_tensor_backward(rsub)
@register_tensor_backward(neg)
def _neg_grad(node, g, saved, needs):
    return (neg(g),)


@register_tensor_backward(mul)
def _mul_grad(node, g, saved, needs):
    if len(node._parents) == 1:
        return (mul(g, saved.b),)
    a, b = node._parents
    return _two(needs, lambda: rd.sum_to(mul(g, b), a.shape), lambda: rd.sum_to(mul(g, a), b.shape))


@register_tensor_backward(div)
def _div_grad(node, g, saved, needs):
    if len(node._parents) == 1:
        return (mul(g, saved.inv),)
    a, b = node._parents
    ga = div(g, b)  # d(a/b) = da / b - (a/b) db / b
    return _two(needs, lambda: rd.sum_to(ga, a.shape), lambda: rd.sum_to(neg(mul(ga, node)), b.shape))


@register_tensor_backward(rdiv)
def _rdiv_grad(node, g, saved, needs):
    return (neg(div(mul(g, node), node._parents[0])),)


@register_tensor_backward(pow)
def _pow_grad(node, g, saved, needs):
    if len(node._parents) == 1:
        a, p = node._parents[0], saved.p
        return (mul(g, mul(pow(a, p - 1.0), p)),)
    a, p = node._parents
    return _two(needs, lambda: rd.sum_to(mul(g, mul(p, pow(a, sub(p, 1.0)))), a.shape),
                lambda: rd.sum_to(mul(g, mul(node, log(a))), p.shape))


@register_tensor_backward(rpow)
def _rpow_grad(node, g, saved, needs):
    return (mul(mul(g, node), saved.logb),)


@register_tensor_backward(exp)
def _exp_grad(node, g, saved, needs):
    return (mul(g, node),)


@register_tensor_backward(log)
def _log_grad(node, g, saved, needs):
    return (div(g, node._parents[0]),)


@register_tensor_backward(sqrt)
def _sqrt_grad(node, g, saved, needs):
    return (div(mul(g, 0.5), node),)


@register_tensor_backward(abs)
def _abs_grad(node, g, saved, needs):
    return (mul(g, np.sign(saved.ad).astype(g.dtype, copy=False)),)


@register_tensor_backward(_select)  # maximum, minimum, where
def _select_grad(node, g, saved, needs):
    take_a, zero = saved.take_a, np.zeros((), g.dtype)
    return _two(needs, lambda: rd.sum_to(where(take_a, g, zero), saved.sa),
                lambda: rd.sum_to(where(take_a, zero, g), saved.sb))


@register_tensor_backward(clip)
def _clip_grad(node, g, saved, needs):
    return (mul(g, saved.inside.astype(g.dtype)),)


@register_tensor_backward(astype)
def _astype_grad(node, g, saved, needs):
    return (astype(g, saved.src),)
