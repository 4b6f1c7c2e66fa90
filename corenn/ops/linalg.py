"""Matrix products: batched matmul and the fused linear layer."""
import numpy as np

from . import movement as mv
from . import reduce as rd
from .common import as_tensor, node, register_tensor_backward, unbroadcast


def matmul(a, b):
    """``a @ b`` with NumPy's rules (1-D promotion, broadcast batch dims)."""
    a, b = as_tensor(a), as_tensor(b)
    ad, bd = a.data, b.data
    if ad.ndim == 0 or bd.ndim == 0:
        raise ValueError("matmul: both operands must have at least one dimension, "
                         f"got shapes {ad.shape} and {bd.shape}")
    k_b = bd.shape[0] if bd.ndim == 1 else bd.shape[-2]
    if ad.shape[-1] != k_b:
        raise ValueError(f"matmul: shapes {ad.shape} and {bd.shape} are not aligned: "
                         f"{ad.shape[-1]} (last dim of the first) != {k_b} (the second's rows)")
    out = np.matmul(ad, bd)

    def backward(g):
        a2 = ad[None, :] if ad.ndim == 1 else ad
        b2 = bd[:, None] if bd.ndim == 1 else bd
        g2 = g
        if ad.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if bd.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        ga = gb = None
        if a.requires_grad:
            ga = np.matmul(g2, np.swapaxes(b2, -1, -2))
            ga = unbroadcast(ga, a2.shape).reshape(ad.shape)
        if b.requires_grad:
            gb = np.matmul(np.swapaxes(a2, -1, -2), g2)
            gb = unbroadcast(gb, b2.shape).reshape(bd.shape)
        return ga, gb
    return node(out, (a, b), backward)


def linear(x, weight, bias=None):
    """Fused ``x @ weight.T + bias``; x (..., in), weight (out, in), bias (out,)."""
    x = as_tensor(x)
    xd, wd = x.data, weight.data
    if xd.shape[-1] != wd.shape[1]:
        raise ValueError(f"linear: input has {xd.shape[-1]} features (shape {xd.shape}) but the "
                         f"weight expects {wd.shape[1]} (weight shape {wd.shape})")
    out = np.matmul(xd, wd.T)
    if bias is not None:
        out += bias.data
    parents = (x, weight) if bias is None else (x, weight, bias)

    def backward(g):
        g2 = g.reshape(-1, g.shape[-1])
        gx = np.matmul(g, wd) if x.requires_grad else None
        gw = np.matmul(g2.T, xd.reshape(-1, xd.shape[-1])) if weight.requires_grad else None
        if bias is None:
            return gx, gw
        return gx, gw, (g2.sum(axis=0) if bias.requires_grad else None)
    return node(out, parents, backward)


# ---- Tensor-level backwards (create_graph=True), see corenn.autograd ---------------------------------
@register_tensor_backward(matmul)
def _matmul_grad(node, g, saved, needs):
    a, b = node._parents
    a2 = mv.reshape(a, (1, -1)) if a.ndim == 1 else a  # 1-D operands as a row / a column
    b2 = mv.reshape(b, (-1, 1)) if b.ndim == 1 else b
    shape = g.shape + (1,) if b.ndim == 1 else g.shape
    if a.ndim == 1:
        shape = shape[:-1] + (1,) + shape[-1:]
    g2 = mv.reshape(g, shape)
    ga = gb = None
    if needs[0]:
        ga = mv.reshape(rd.sum_to(matmul(g2, mv.swapaxes(b2, -1, -2)), a2.shape), a.shape)
    if needs[1]:
        gb = mv.reshape(rd.sum_to(matmul(mv.swapaxes(a2, -1, -2), g2), b2.shape), b.shape)
    return ga, gb


@register_tensor_backward(linear)
def _linear_grad(node, g, saved, needs):
    x, weight = node._parents[:2]
    g2 = mv.reshape(g, (-1, g.shape[-1]))
    grads = (matmul(g, weight) if needs[0] else None,
             matmul(mv.transpose(g2), mv.reshape(x, (-1, x.shape[-1]))) if needs[1] else None)
    return grads if len(needs) == 2 else grads + (rd.sum(g2, 0) if needs[2] else None,)
