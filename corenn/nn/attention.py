"""Multi-head attention with torch.nn.MultiheadAttention's arguments, parameter names and masks."""
import math

import numpy as np

from .. import ops
from ..ops.attention import causal_mask, merge_heads, scaled_dot_product_attention, split_heads
from ..tensor import Tensor
from . import init
from .functional import dropout as functional_dropout
from .layers import Linear
from .module import Module, Parameter

__all__ = ["MultiheadAttention"]


def _raw(mask):
    return None if mask is None else np.asarray(mask.data if isinstance(mask, Tensor) else mask)


def _check_mask(name, mask, shapes):
    if mask.dtype != np.bool_ and mask.dtype.kind != "f":
        raise TypeError(f"MultiheadAttention: {name} must be boolean (True = masked out) or float (added to the "
                        f"scores), got dtype {mask.dtype}")
    if mask.shape not in shapes:
        raise ValueError(f"MultiheadAttention: {name} has shape {mask.shape}, expected one of {sorted(set(shapes))}")


def _merge_masks(attn_mask, key_padding_mask, n, heads, L, S, dtype):
    """One SDPA mask broadcastable to (N, H, L, S): boolean 'take part' when both masks are boolean (or
    absent), else float (booleans become 0 / -inf, as PyTorch merges them)."""
    parts = []
    if attn_mask is not None:
        parts.append(attn_mask.reshape((n, heads, L, S) if attn_mask.ndim == 3 else (1, 1, L, S)))
    if key_padding_mask is not None:
        parts.append(key_padding_mask.reshape(n, 1, 1, S))
    if not parts:
        return None
    if all(p.dtype == np.bool_ for p in parts):
        allowed = ~parts[0]
        for p in parts[1:]:
            allowed = allowed & ~p
        return allowed
    total = None
    for p in parts:
        add = np.where(p, -np.inf, 0.0).astype(dtype) if p.dtype == np.bool_ else p.astype(dtype, copy=False)
        total = add if total is None else total + add
    return total


class MultiheadAttention(Module):
    """torch.nn.MultiheadAttention: softmax(Q K^T / sqrt(D) + masks) V over ``num_heads`` heads of D = E / H.

    Shapes (batch_first=False): query (L, N, E), key (S, N, kdim), value (S, N, vdim) -> (L, N, E);
    with batch_first=True (N, L, E) ...; unbatched (L, E) inputs work too. ``key_padding_mask`` (N, S)
    and ``attn_mask`` (L, S) or (N * H, L, S): boolean with True = NOT allowed to attend (PyTorch's
    convention, the opposite of ``scaled_dot_product_attention``), or float, added to the scores.
    Returns (attn_output, attn_weights): the weights (N, L, S) averaged over heads, (N, H, L, S) with
    ``average_attn_weights=False``, or None with ``need_weights=False`` (then the fused attention op
    runs; with weights, the composite path computes them, as PyTorch does, and a row with every key
    masked gives NaN there, zeros on the fused path). ``is_causal`` without ``attn_mask`` builds the
    causal mask (PyTorch requires the mask to be passed as well).
    Parameters: ``in_proj_weight`` (3E, E) packed [q; k; v] and ``in_proj_bias`` (3E,), or
    ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight`` when kdim/vdim differ from E; ``out_proj``.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, dtype=np.float32):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be positive, got {embed_dim} "
                             f"and {num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads})")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1), got {dropout}")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are not implemented")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, float(dropout)
        self.head_dim = embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.batch_first = batch_first
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=dtype))
            init.xavier_uniform_(self.in_proj_weight)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.empty((embed_dim, embed_dim), dtype=dtype))
            self.k_proj_weight = Parameter(np.empty((embed_dim, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.empty((embed_dim, self.vdim), dtype=dtype))
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if bias:
            init.zeros_(self.out_proj.bias)

    def extra_repr(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
                f"batch_first={self.batch_first}")

    def _bias(self, i):
        b = self.in_proj_bias
        return None if b is None else ops.getitem(b, slice(i * self.embed_dim, (i + 1) * self.embed_dim))

    def _weight(self, i):
        return ops.getitem(self.in_proj_weight, slice(i * self.embed_dim, (i + 1) * self.embed_dim))

    def _project(self, query, key, value, same_qk, same_kv):
        """q, k, v as (N, H, T, D)."""
        h = self.num_heads
        if not self._qkv_same_embed_dim:
            return (split_heads(ops.linear(query, self.q_proj_weight, self._bias(0)), h),
                    split_heads(ops.linear(key, self.k_proj_weight, self._bias(1)), h),
                    split_heads(ops.linear(value, self.v_proj_weight, self._bias(2)), h))
        if same_qk and same_kv:
            return split_heads(ops.linear(query, self.in_proj_weight, self.in_proj_bias), h, parts=3)
        q = split_heads(ops.linear(query, self._weight(0), self._bias(0)), h)
        if same_kv:
            e = self.embed_dim
            w = ops.getitem(self.in_proj_weight, slice(e, 3 * e))
            b = None if self.in_proj_bias is None else ops.getitem(self.in_proj_bias, slice(e, 3 * e))
            k, v = split_heads(ops.linear(key, w, b), h, parts=2)
            return q, k, v
        return (q, split_heads(ops.linear(key, self._weight(1), self._bias(1)), h),
                split_heads(ops.linear(value, self._weight(2), self._bias(2)), h))

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        same_qk, same_kv = query is key, key is value
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"MultiheadAttention: query, key and value must all be batched (3-D) or unbatched "
                             f"(2-D), got shapes {tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
        batched = query.ndim == 3
        if not batched:
            query, key, value = (ops.unsqueeze(t, 0) for t in (query, key, value))
        elif not self.batch_first:
            query, key, value = (ops.swapaxes(t, 0, 1) for t in (query, key, value))
        n, L, e = query.shape
        S = key.shape[1]
        for name, t, dim in (("query", query, self.embed_dim), ("key", key, self.kdim), ("value", value, self.vdim)):
            if t.shape[-1] != dim:
                raise ValueError(f"MultiheadAttention: {name} has {t.shape[-1]} features, expected {dim}")
        if key.shape[:2] != value.shape[:2] or key.shape[0] != n:
            raise ValueError(f"MultiheadAttention: batch and length of key {tuple(key.shape)} and value "
                             f"{tuple(value.shape)} must match each other and the query's batch {n}")
        h = self.num_heads
        kpm, am = _raw(key_padding_mask), _raw(attn_mask)
        if kpm is not None:
            _check_mask("key_padding_mask", kpm, [(n, S)] if batched else [(S,)])
        if am is not None:
            _check_mask("attn_mask", am, [(L, S), (n * h, L, S)])
        elif is_causal:
            am = ~causal_mask(L, S)
        q, k, v = self._project(query, key, value, same_qk, same_kv)
        dropout_p = self.dropout if self.training else 0.0
        mask = _merge_masks(am, kpm, n, h, L, S, q.dtype)
        if need_weights:
            scores = ops.matmul(q * (1.0 / math.sqrt(self.head_dim)), ops.swapaxes(k, -1, -2))
            if mask is not None:
                additive = np.where(mask, 0.0, -np.inf).astype(q.dtype) if mask.dtype == np.bool_ else mask
                scores = scores + Tensor(additive)
            weights = ops.softmax(scores, -1)
            if dropout_p > 0.0:
                weights = functional_dropout(weights, dropout_p, True)
            out = ops.matmul(weights, v)
        else:
            causal = is_causal and attn_mask is None and key_padding_mask is None
            out = scaled_dot_product_attention(q, k, v, None if causal else mask, dropout_p, causal)
        out = self.out_proj(merge_heads(out))
        if not batched:
            out = ops.squeeze(out, 0)
        elif not self.batch_first:
            out = ops.swapaxes(out, 0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = ops.mean(weights, 1)
        if not batched:
            weights = ops.squeeze(weights, 0)
        return out, weights
