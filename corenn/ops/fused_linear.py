"""Fused linear layers for hot loops: act(x @ W + b) as one node, and the minimum over an axis
with the gradient routed to the chosen entry (an ensemble's min over its members).

`fused_linear` does one matmul, adds the bias in place and applies the activation in place; its
backward skips the gradients nobody needs (no dx for observations, no dW for frozen weights).
Weights are laid out (in, out), or (E, in, out) for an ensemble of E members evaluated with one
batched matmul:
    x (B, in) shared by all members, or (E, B, in)  ->  (E, B, out)
    without an ensemble: x (B, in), weight (in, out), bias (out,)  ->  (B, out)
"""
import math

import numpy as np

from . import elementwise as ew
from . import linalg
from . import movement as mv
from . import reduce as rd
from .common import as_tensor, node, register_tensor_backward, unbroadcast

FUSED_ACTIVATIONS = ("relu", "tanh", None)

_CONSTANTS: dict = {}  # (shape, dtype, value) -> read-only array


def _constant(shape: tuple, value: float, dtype=np.float32) -> np.ndarray | None:
    """A cached read-only array filled with `value`, or None for shapes too big or too many to cache."""
    key = (shape, dtype, value)  # dtype as given (a type or a dtype): hashing it is cheaper than normalising it
    arr = _CONSTANTS.get(key)
    if arr is None:
        if len(_CONSTANTS) >= 64 or math.prod(shape) > 1 << 21:
            return None
        arr = _CONSTANTS[key] = np.full(shape, value, dtype)
        arr.flags.writeable = False
    return arr


def _zeros(shape: tuple):
    """Zeros for np.maximum (a full zero array keeps NumPy on its SIMD loop, a scalar 0 is several times slower)."""
    z = _constant(shape, 0.0)
    return 0.0 if z is None else z


def _ones_row(n: int, dtype) -> np.ndarray:
    """A (1, n) row of ones: ``ones @ g`` sums g over its rows through BLAS, about twice as fast as
    ``g.sum(axis=-2)`` for a (B, out) or (E, B, out) gradient."""
    row = _constant((1, n), 1.0, dtype)
    return np.ones((1, n), dtype) if row is None else row


def fused_linear(x, weight, bias, activation=None):
    """act(x @ weight + bias) as one graph node.

    x: (B, in) or (E, B, in); weight: (in, out) or (E, in, out); bias: (out,) or (E, 1, out).
    activation: "relu", "tanh" or None.
    """
    x = as_tensor(x)
    xd, wd, bd = x.data, weight.data, bias.data
    if xd.shape[-1] != wd.shape[-2]:
        raise ValueError(f"fused_linear: input has {xd.shape[-1]} features (shape {xd.shape}) but the "
                         f"weight expects {wd.shape[-2]} (weight shape {wd.shape}, laid out (in, out))")
    out = np.matmul(xd, wd)
    out += bd
    if activation == "relu":
        np.maximum(out, _zeros(out.shape), out=out)  # a full zero array keeps NumPy on its SIMD loop
    elif activation == "tanh":
        np.tanh(out, out=out)
    elif activation is not None:
        raise ValueError(f"fused_linear supports activation 'relu', 'tanh' or None, got {activation!r}")

    def backward(g):
        if activation == "relu":
            g = g * (out > 0.0)
        elif activation == "tanh":
            g = g * (1.0 - out * out)
        gx = gw = gb = None
        if x.requires_grad:
            wt = np.swapaxes(wd, -1, -2)
            # one output unit (a Q head): an outer product, which NumPy's matmul does slowly without BLAS
            gx = g * wt if wd.shape[-1] == 1 else np.matmul(g, wt)
            if gx.ndim > xd.ndim:  # input shared by all members
                gx = gx.sum(axis=0)
        if weight.requires_grad:
            gw = np.matmul(np.swapaxes(xd, -1, -2), g)
            if gw.ndim > wd.ndim:  # members' inputs (E, B, in) through one shared weight
                gw = unbroadcast(gw, wd.shape)
        if bias.requires_grad:
            if bd.ndim == g.ndim:  # (E, 1, out)
                gb = np.matmul(_ones_row(g.shape[-2], g.dtype), g)
            elif g.ndim == 2:  # (out,)
                gb = np.matmul(_ones_row(g.shape[0], g.dtype)[0], g)
            else:  # one bias (out,) shared by all members
                gb = unbroadcast(g, bd.shape)
        return gx, gw, gb

    return node(out, (x, weight, bias), backward)


def take_min(x, axis=0):
    """Minimum along `axis` with the gradient going to the (first) smallest entry, as
    torch.min(x, dim).values does; e.g. an ensemble's Q values (E, B) -> (B,). dtype kept."""
    x = as_tensor(x)
    xd = x.data
    axis = axis % xd.ndim
    idx = np.expand_dims(xd.argmin(axis=axis), axis)
    shape = [1] * xd.ndim
    shape[axis] = xd.shape[axis]
    chosen = np.arange(xd.shape[axis]).reshape(shape) == idx  # one-hot of the minimum along axis
    out = np.take_along_axis(xd, idx, axis=axis).squeeze(axis)

    def backward(g):
        return (chosen * np.expand_dims(g, axis),)

    return node(out, (x,), backward)


# ---- Tensor-level backwards (create_graph=True), see corenn.autograd ---------------------------------
@register_tensor_backward(fused_linear)
def _fused_linear_grad(node, g, saved, needs):
    x, weight, bias = node._parents
    if saved.activation == "relu":
        g = ew.mul(g, (node.data > 0.0).astype(g.dtype))
    elif saved.activation == "tanh":
        g = ew.mul(g, ew.rsub(ew.mul(node, node), 1.0))
    gx = gw = gb = None
    if needs[0]:
        gx = linalg.matmul(g, mv.swapaxes(weight, -1, -2))
        gx = rd.sum(gx, 0) if gx.ndim > x.ndim else gx  # input shared by all members
    if needs[1]:
        gw = rd.sum_to(linalg.matmul(mv.swapaxes(x, -1, -2), g), weight.shape)
    if needs[2]:
        gb = rd.sum_to(g, bias.shape)
    return gx, gw, gb


@register_tensor_backward(take_min)
def _take_min_grad(node, g, saved, needs):
    return (ew.mul(mv.unsqueeze(g, saved.axis), saved.chosen.astype(g.dtype)),)
