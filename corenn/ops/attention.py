"""Fused scaled dot-product attention (one graph node), and splitting packed projections into heads.

``scaled_dot_product_attention`` computes softmax(Q K^T * scale + mask) V with the semantics of
``torch.nn.functional.scaled_dot_product_attention``:

* query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); batch dims broadcast.
* ``attn_mask``: boolean (True = this query may attend to this key) or float (added to the
  scores), broadcastable to (..., L, S).
* ``is_causal``: query i attends to keys j <= i (top-left aligned, ``tril(ones(L, S))``); it cannot
  be combined with ``attn_mask``.
* A row whose keys are all masked out (all False, or all -inf) gives zeros, as PyTorch >= 2.5
  does (its "safe softmax"), and passes no gradient; it never gives NaN.
* ``dropout_p``: dropout on the attention probabilities, applied whenever it is > 0 (as in
  PyTorch, which has no training flag here: pass 0.0 in evaluation).

The forward saves the probabilities P (and the dropout mask); with Pd = P * keep / (1 - p) the
backward is five array expressions and four matmuls:

    dV = Pd^T dO,  dPd = dO V^T,  dP = dPd * keep / (1 - p),  dS = P * (dP - rowsum(dP * P)),
    dQ = dS K * scale,  dK = dS^T Q * scale,  d(float mask) = dS.
"""
import math

import numpy as np

from ..autograd import Function, unbroadcast
from ..creation import generator
from . import movement
from .common import Tensor, as_tensor

__all__ = ["scaled_dot_product_attention", "split_heads", "merge_heads", "causal_mask"]

_CAUSAL: dict = {}


def _cached(key, make):
    m = _CAUSAL.get(key)
    if m is None:
        if len(_CAUSAL) >= 32:
            _CAUSAL.clear()
        m = make()
        m.flags.writeable = False
        _CAUSAL[key] = m
    return m


def causal_mask(L: int, S: int) -> np.ndarray:
    """Read-only boolean (L, S) mask, True where query i may attend to key j (j <= i)."""
    return _cached((L, S), lambda: np.tril(np.ones((L, S), dtype=bool)))


def _causal_bias(L: int, S: int, dtype) -> np.ndarray:
    """Read-only (L, S) array: 0 where query i may attend to key j (j <= i), -inf above the diagonal."""
    return _cached((L, S, np.dtype(dtype).str), lambda: np.where(causal_mask(L, S), 0.0, -np.inf).astype(dtype))


def _masked_softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis in place; rows that are all -inf become zeros."""
    m = scores.max(axis=-1, keepdims=True)
    empty = np.isneginf(m)
    any_empty = bool(empty.any())
    if any_empty:
        m[empty] = 0.0
    scores -= m
    np.exp(scores, out=scores)
    denom = scores.sum(axis=-1, keepdims=True)
    if any_empty:
        denom[empty] = 1.0  # exp(-inf) = 0 everywhere in that row
    scores /= denom
    return scores


class ScaledDotProductAttention(Function):
    """The fused attention node; call it through ``scaled_dot_product_attention``."""

    @staticmethod
    def forward(ctx, q, k, v, mask, dropout_p, is_causal, scale):
        dtype = q.dtype
        qs = q * dtype.type(scale)
        scores = np.matmul(qs, np.swapaxes(k, -1, -2))
        L, S = scores.shape[-2:]
        allowed = None
        if is_causal:
            scores += _causal_bias(L, S, dtype)  # one pass; faster than copyto(where=)
        if mask is not None:
            if mask.dtype == np.bool_:
                allowed = mask
            elif np.broadcast_shapes(mask.shape, scores.shape) == scores.shape:
                scores += mask
            else:
                scores = scores + mask
        if allowed is not None:
            if np.broadcast_shapes(allowed.shape, scores.shape) != scores.shape:
                scores = np.ascontiguousarray(np.broadcast_to(scores, np.broadcast_shapes(allowed.shape,
                                                                                           scores.shape)))
            np.copyto(scores, -np.inf, where=~allowed)
        p = _masked_softmax(scores)
        keep = None
        pd = p
        if dropout_p > 0.0:
            keep = generator().random(p.shape) >= dropout_p
            pd = p * keep
            pd *= dtype.type(1.0 / (1.0 - dropout_p)) if dropout_p < 1.0 else 0.0
        out = np.matmul(pd, v)
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(qs, k, v, p, keep)
            ctx.scale, ctx.dropout_p = scale, dropout_p
            ctx.mask_shape = None if mask is None else mask.shape
        return out

    @staticmethod
    def backward(ctx, g):
        qs, k, v, p, keep = ctx.saved_tensors
        needs = ctx.needs_input_grad
        inv_keep = 0.0 if ctx.dropout_p >= 1.0 else 1.0 / (1.0 - ctx.dropout_p)
        gq = gk = gv = gmask = None
        if needs[2]:
            pd = p if keep is None else p * keep * p.dtype.type(inv_keep)
            gv = unbroadcast(np.matmul(np.swapaxes(pd, -1, -2), g), v.shape)
        if needs[0] or needs[1] or (len(needs) > 3 and needs[3]):
            ds = np.matmul(g, np.swapaxes(v, -1, -2))
            if keep is not None:
                ds *= keep
                ds *= ds.dtype.type(inv_keep)
            ds -= np.einsum("...ij,...ij->...i", ds, p)[..., None]  # rowsum(dP * P), no temporary
            ds *= p
            if needs[0]:
                gq = unbroadcast(np.matmul(ds, k), qs.shape)
                gq *= gq.dtype.type(ctx.scale)
            if needs[1]:
                gk = unbroadcast(np.matmul(np.swapaxes(ds, -1, -2), qs), k.shape)
            if len(needs) > 3 and needs[3]:
                gmask = unbroadcast(ds, ctx.mask_shape)
        grads = (gq, gk, gv)
        return grads + (gmask,) if len(needs) > 3 else grads


def _check_float(name, t):
    if t.dtype.kind != "f":
        raise TypeError(f"scaled_dot_product_attention: {name} must be a floating-point tensor, got dtype {t.dtype}")
    if t.ndim < 2:
        raise ValueError(f"scaled_dot_product_attention: {name} must have at least 2 dims (..., length, features), "
                         f"got shape {t.shape}")


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """softmax(query @ key^T * scale + mask) @ value as one node; see the module docstring.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev). ``scale`` defaults to
    1 / sqrt(E). ``attn_mask`` (Tensor or ndarray, broadcastable to (..., L, S)): boolean, True =
    take part; or float, added to the scores (a float Tensor that requires grad gets a gradient).
    """
    query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
    for name, t in (("query", query), ("key", key), ("value", value)):
        _check_float(name, t)
    if not query.dtype == key.dtype == value.dtype:
        raise TypeError(f"scaled_dot_product_attention: query, key and value must share a dtype, got "
                        f"{query.dtype}, {key.dtype} and {value.dtype}")
    if key.shape[-1] != query.shape[-1]:
        raise ValueError(f"scaled_dot_product_attention: query has {query.shape[-1]} features (shape "
                         f"{query.shape}) but key has {key.shape[-1]} (shape {key.shape})")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: key has {key.shape[-2]} positions (shape {key.shape}) "
                         f"but value has {value.shape[-2]} (shape {value.shape})")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1], got {dropout_p}")
    L, S = query.shape[-2], key.shape[-2]
    if attn_mask is not None:
        if is_causal:
            raise ValueError("scaled_dot_product_attention: pass either attn_mask or is_causal=True, not both")
        raw = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        if raw.dtype != np.bool_ and raw.dtype.kind != "f":
            raise TypeError(f"scaled_dot_product_attention: attn_mask must be boolean (True = take part) or "
                            f"float (added to the scores), got dtype {raw.dtype}")
        try:
            np.broadcast_shapes(raw.shape, query.shape[:-2] + (L, S))
        except ValueError:
            raise ValueError(f"scaled_dot_product_attention: attn_mask of shape {raw.shape} does not broadcast "
                             f"to the scores' shape {query.shape[:-2] + (L, S)} (..., L, S)") from None
        if raw.dtype.kind == "f" and raw.dtype != query.dtype:
            attn_mask = attn_mask.to(query.dtype) if isinstance(attn_mask, Tensor) else raw.astype(query.dtype)
        elif not isinstance(attn_mask, Tensor):
            attn_mask = raw
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    return ScaledDotProductAttention.apply(query, key, value, attn_mask, float(dropout_p), bool(is_causal), scale)


class SplitHeads(Function):
    """(..., T, parts * H * D) -> ``parts`` tensors (..., H, T, D) (views); backward writes one array."""

    @staticmethod
    def forward(ctx, x, parts, num_heads):
        shape = x.shape
        d = shape[-1] // (parts * num_heads)
        y = np.moveaxis(x.reshape(shape[:-1] + (parts, num_heads, d)), -3, 0)  # (parts, ..., T, H, D)
        ctx.shape, ctx.parts = shape, parts
        return tuple(np.swapaxes(y[i], -2, -3) for i in range(parts))

    @staticmethod
    def backward(ctx, *grads):
        shape = ctx.shape
        g0 = grads[0]
        heads, d = g0.shape[-3], g0.shape[-1]
        gx = np.empty(shape[:-1] + (ctx.parts, heads, d), dtype=g0.dtype)
        for i, g in enumerate(grads):
            gx[..., i, :, :] = np.swapaxes(g, -2, -3)
        return gx.reshape(shape)


def split_heads(x, num_heads, parts=1):
    """Split the last dim of x (..., T, parts * num_heads * D) into ``parts`` tensors (..., num_heads, T, D):
    the query, key and value of a packed projection (parts=3), laid out [q | k | v], each head's
    features contiguous. Returns a tuple when parts > 1, else one tensor."""
    x = as_tensor(x)
    if x.ndim < 2 or x.shape[-1] % (parts * num_heads):
        raise ValueError(f"split_heads: the last dim of shape {tuple(x.shape)} must be divisible by "
                         f"parts * num_heads = {parts} * {num_heads}")
    out = SplitHeads.apply(x, int(parts), int(num_heads))
    return out if parts > 1 else out[0]


def merge_heads(x):
    """(..., H, T, D) -> (..., T, H * D), the inverse of ``split_heads`` with parts=1."""
    shape = x.shape
    if len(shape) < 3:
        raise ValueError(f"merge_heads expects (..., heads, length, features), got shape {tuple(shape)}")
    y = movement.swapaxes(x, -2, -3)
    return movement.reshape(y, shape[:-3] + (shape[-2], shape[-3] * shape[-1]))
