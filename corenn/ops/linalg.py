"""Matrix products: batched matmul and the fused linear layer."""
import numpy as np

from .common import as_tensor, node, unbroadcast


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
