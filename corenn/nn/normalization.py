"""BatchNorm1d and LayerNorm (fused normalisation, then the affine map)."""
import numpy as np

from .. import ops
from ..tensor import Tensor
from .module import Module, Parameter


class BatchNorm1d(Module):
    """Normalise (N, C) or (N, C, L) over the batch (and length) per channel C."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=np.float32))
            self.bias = Parameter(np.zeros(num_features, dtype=np.float32))
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
            self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))

    def forward(self, x):
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}) expects (N, {self.num_features}) or "
                             f"(N, {self.num_features}, L) input, got shape {x.shape}")
        axes = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
        if self.training or not self.track_running_stats:
            xhat, mu, var = ops.normalize(x, axes, self.eps)
            if self.training and self.track_running_stats:
                n = x.data.size // self.num_features
                m = self.momentum
                self.running_mean *= 1 - m
                self.running_mean += m * mu.reshape(-1)
                self.running_var *= 1 - m
                self.running_var += m * var.reshape(-1) * (n / max(n - 1, 1))
                self.num_batches_tracked += 1
        else:
            scale = 1.0 / np.sqrt(self.running_var + self.eps)
            xhat = (x - Tensor(self.running_mean.reshape(shape))) * Tensor(scale.reshape(shape))
        if self.affine:
            xhat = xhat * self.weight.reshape(shape) + self.bias.reshape(shape)
        return xhat


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dims; x (..., *normalized_shape)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape, self.eps = tuple(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=np.float32))
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=np.float32))

    def forward(self, x):
        k = len(self.normalized_shape)
        if tuple(x.shape[-k:]) != self.normalized_shape:
            raise ValueError(f"LayerNorm{self.normalized_shape} got input of shape {x.shape}")
        xhat, _, _ = ops.normalize(x, tuple(range(x.ndim - k, x.ndim)), self.eps)
        if self.elementwise_affine:
            xhat = xhat * self.weight + self.bias
        return xhat
