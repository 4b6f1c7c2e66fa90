"""Basic layers: Linear, Identity, Flatten, Embedding, Dropout."""
import math

import numpy as np

from .. import ops
from ..creation import generator
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x @ W.T + b; x (..., in_features) -> (..., out_features)."""

    def __init__(self, in_features, out_features, bias=True, dtype=np.float32):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features) if in_features else 0.0
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        init.uniform_(self.weight, -bound, bound)
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
            init.uniform_(self.bias, -bound, bound)
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        return ops.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    def forward(self, x):
        return x


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return ops.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Embedding(Module):
    """Lookup table: integer indices (...) -> vectors (..., embedding_dim)."""

    def __init__(self, num_embeddings, embedding_dim, dtype=np.float32):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(generator().standard_normal((num_embeddings, embedding_dim)).astype(dtype))

    def forward(self, indices):
        idx = np.asarray(getattr(indices, "data", indices))
        if idx.dtype.kind not in "iu":
            raise TypeError(f"Embedding expects integer indices, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            raise IndexError(f"Embedding index out of range [0, {self.num_embeddings})")
        return ops.getitem(self.weight, idx)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Dropout(Module):
    """Zero each element with probability p in training and scale by 1/(1-p)."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p < 1.0 and p != 1.0:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return ops.mul(x, 0.0)
        keep = generator().random(x.shape) >= self.p
        return ops.mul(x, keep.astype(x.dtype) * (1.0 / (1.0 - self.p)))

    def extra_repr(self):
        return f"p={self.p}"
