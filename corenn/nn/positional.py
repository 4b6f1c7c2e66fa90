"""Positional encodings: sinusoidal ("Attention is all you need"), learned (an embedding over positions),
and rotary embeddings (RoPE, Su et al. 2021) in the "rotate half" layout of GPT-NeoX and LLaMA.

RoPE rotates each pair of features (x_i, x_{i + d/2}), i < d/2, of a query or key at position m by
the angle m * theta_i, theta_i = base^(-2i/d):

    (x_i, x_{i+d/2}) -> (x_i cos(m theta_i) - x_{i+d/2} sin(m theta_i), x_i sin(m theta_i) + x_{i+d/2} cos(m theta_i)),

i.e. x * cos + rotate_half(x) * sin with rotate_half(x) = [-x2, x1] and cos/sin of the angles
repeated twice along the features; so q_m . k_n depends on m - n only.
"""
import math

import numpy as np

from .. import ops
from ..autograd import Function
from ..tensor import Tensor
from . import init
from .layers import Dropout, Embedding
from .module import Module

__all__ = ["sinusoidal_encoding", "SinusoidalPositionalEncoding", "LearnedPositionalEmbedding",
           "rotary_cos_sin", "apply_rotary_pos_emb", "rotate_half", "RotaryEmbedding"]


def sinusoidal_encoding(length, d_model, base=10000.0, dtype=np.float32):
    """(length, d_model) ndarray: PE[p, 2i] = sin(p / base^(2i/d)), PE[p, 2i+1] = cos(p / base^(2i/d))."""
    if length < 0 or d_model < 1:
        raise ValueError(f"sinusoidal_encoding needs length >= 0 and d_model >= 1, got {length} and {d_model}")
    pos = np.arange(length, dtype=np.float64)[:, None]
    div = np.exp(np.arange(0, d_model, 2, dtype=np.float64) * (-math.log(base) / d_model))
    pe = np.zeros((length, d_model))
    pe[:, 0::2] = np.sin(pos * div)
    pe[:, 1::2] = np.cos(pos * div[: d_model // 2])
    return pe.astype(dtype)


def _check_length(name, x, batch_first, offset, max_len):
    if x.ndim not in (2, 3):
        raise ValueError(f"{name} expects (N, L, E), (L, N, E) or (L, E) input, got shape {tuple(x.shape)}")
    length = x.shape[1] if (batch_first and x.ndim == 3) else x.shape[0]
    if offset < 0 or offset + length > max_len:
        raise ValueError(f"{name}: positions {offset}..{offset + length - 1} exceed max_len={max_len}")
    return length


class SinusoidalPositionalEncoding(Module):
    """x + PE[offset : offset + L], then dropout; x (N, L, E) with batch_first (the default), (L, N, E)
    without it, or (L, E). The table is a fixed attribute (not a parameter, not in the state dict)."""

    def __init__(self, d_model, max_len=5000, dropout=0.0, batch_first=True, base=10000.0):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.pe = sinusoidal_encoding(max_len, d_model, base)
        self.dropout = Dropout(dropout)

    def forward(self, x, offset=0):
        length = _check_length("SinusoidalPositionalEncoding", x, self.batch_first, offset, self.max_len)
        pe = self.pe[offset:offset + length].astype(x.dtype, copy=False)
        if x.ndim == 3 and not self.batch_first:
            pe = pe[:, None, :]
        return self.dropout(x + Tensor(pe))

    def extra_repr(self):
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"


class LearnedPositionalEmbedding(Embedding):
    """x + weight[offset : offset + L]: an Embedding (max_len, d_model) over positions, initialised
    N(0, init_std^2) (0.02 as in GPT-2). x (N, L, E) with batch_first (the default), (L, N, E) or (L, E)."""

    def __init__(self, max_len, d_model, batch_first=True, init_std=0.02):
        super().__init__(max_len, d_model)
        init.normal_(self.weight, 0.0, init_std)
        self.batch_first = batch_first

    def positions(self, length, offset=0):
        """The embeddings of positions offset..offset+length-1: (length, d_model)."""
        return ops.getitem(self.weight, slice(offset, offset + length))

    def forward(self, x, offset=0):
        length = _check_length("LearnedPositionalEmbedding", x, self.batch_first, offset, self.num_embeddings)
        pe = self.positions(length, offset)
        if x.ndim == 3 and not self.batch_first:
            pe = pe.unsqueeze(1)
        return x + pe


def rotate_half(x):
    """[-x2, x1] for x = [x1, x2] split in halves along the last axis (ndarray)."""
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def _rotate_half_transposed(y):
    half = y.shape[-1] // 2
    return np.concatenate([y[..., half:], -y[..., :half]], axis=-1)


def rotary_cos_sin(positions, dim, base=10000.0, dtype=np.float32):
    """cos and sin of the RoPE angles, each (len(positions), dim): angle[m, i] = angle[m, i + dim/2] =
    positions[m] * base^(-2i/dim)."""
    if dim < 2 or dim % 2:
        raise ValueError(f"rotary embeddings need an even dim >= 2, got {dim}")
    inv_freq = 1.0 / base ** (np.arange(0, dim, 2, dtype=np.float64) / dim)
    freqs = np.asarray(positions, dtype=np.float64)[:, None] * inv_freq[None, :]
    emb = np.concatenate([freqs, freqs], axis=-1)
    return np.cos(emb).astype(dtype), np.sin(emb).astype(dtype)


class ApplyRotary(Function):
    """x * cos + rotate_half(x) * sin on the first cos.shape[-1] features of x (the rest pass through)."""

    @staticmethod
    def forward(ctx, x, cos, sin):
        r = cos.shape[-1]
        ctx.cos, ctx.sin, ctx.r = cos, sin, r
        rot = x[..., :r]
        out = rot * cos + rotate_half(rot) * sin
        if r == x.shape[-1]:
            return out
        return np.concatenate([out, x[..., r:]], axis=-1)

    @staticmethod
    def backward(ctx, g):
        r = ctx.r
        gr = g[..., :r]
        gx = gr * ctx.cos + _rotate_half_transposed(gr * ctx.sin)
        if r == g.shape[-1]:
            return gx
        return np.concatenate([gx, g[..., r:]], axis=-1)


def _rotate(x, cos, sin):
    if x.shape[-1] < cos.shape[-1]:
        raise ValueError(f"apply_rotary_pos_emb: the tensor has {x.shape[-1]} features, fewer than the rotary "
                         f"dim {cos.shape[-1]}")
    dtype = x.dtype
    return ApplyRotary.apply(x, cos.astype(dtype, copy=False), sin.astype(dtype, copy=False))


def apply_rotary_pos_emb(q, k, cos, sin):
    """Rotate q and k (..., T, D) by RoPE; cos and sin (T, d) (or broadcastable to (..., T, d)) from
    ``rotary_cos_sin``; d <= D (the first d features rotate, the rest pass through). Returns (q, k)."""
    cos = np.asarray(cos.data if isinstance(cos, Tensor) else cos)
    sin = np.asarray(sin.data if isinstance(sin, Tensor) else sin)
    if cos.shape != sin.shape:
        raise ValueError(f"apply_rotary_pos_emb: cos {cos.shape} and sin {sin.shape} differ in shape")
    return _rotate(q, cos, sin), _rotate(k, cos, sin)


class RotaryEmbedding(Module):
    """RoPE for heads of ``dim`` features (or the first ``dim`` of them): ``rope(x, offset=0)`` rotates
    x (..., T, D) at positions offset..offset+T-1; ``cos_sin(T, offset)`` gives the (T, dim) tables for
    ``apply_rotary_pos_emb``. No parameters."""

    def __init__(self, dim, max_position_embeddings=2048, base=10000.0):
        super().__init__()
        self.dim, self.max_position_embeddings, self.base = dim, max_position_embeddings, base
        self._cache = {}
        rotary_cos_sin(np.zeros(0), dim, base)  # validates dim

    def cos_sin(self, length, offset=0, dtype=np.float32):
        if offset < 0 or offset + length > self.max_position_embeddings:
            raise ValueError(f"RotaryEmbedding: positions {offset}..{offset + length - 1} exceed "
                             f"max_position_embeddings={self.max_position_embeddings}")
        key = np.dtype(dtype).str
        table = self._cache.get(key)
        if table is None:
            table = self._cache[key] = rotary_cos_sin(np.arange(self.max_position_embeddings), self.dim,
                                                      self.base, dtype)
        cos, sin = table
        return cos[offset:offset + length], sin[offset:offset + length]

    def forward(self, x, offset=0):
        cos, sin = self.cos_sin(x.shape[-2], offset, x.dtype)
        return _rotate(x, cos, sin)

    def extra_repr(self):
        return f"dim={self.dim}, max_position_embeddings={self.max_position_embeddings}, base={self.base}"
