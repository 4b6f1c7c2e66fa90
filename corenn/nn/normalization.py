"""Batch, layer and group normalisation (fused normalisation, then the affine map)."""
import numpy as np

from .. import ops
from ..tensor import Tensor
from .module import Module, Parameter


class _BatchNorm(Module):
    """Per-channel normalisation over the batch (and spatial) axes. In training (or without running
    statistics) it uses the batch's statistics and updates ``running_mean`` and ``running_var``
    (unbiased) with ``momentum`` (a cumulative average when ``momentum`` is None); in eval mode it
    uses the running statistics. Subclasses say which input ranks they take."""

    ranks: tuple = ()
    layout: str = ""

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

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.fill(0)
            self.running_var.fill(1)
            self.num_batches_tracked.fill(0)

    def forward(self, x):
        name = type(self).__name__
        if x.ndim not in self.ranks or x.shape[1] != self.num_features:
            raise ValueError(f"{name}({self.num_features}) expects {self.layout.format(C=self.num_features)} "
                             f"input, got shape {x.shape}")
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        if self.training or not self.track_running_stats:
            n = x.data.size // self.num_features
            if self.training and n <= 1:
                raise ValueError(f"{name}: expected more than 1 value per channel when training, "
                                 f"got input of shape {x.shape}")
            xhat, mu, var = ops.normalize(x, axes, self.eps)
            if self.training and self.track_running_stats:
                self.num_batches_tracked += 1
                m = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                self.running_mean *= 1 - m
                self.running_mean += m * mu.reshape(-1)
                self.running_var *= 1 - m
                self.running_var += m * var.reshape(-1) * (n / max(n - 1, 1))
        else:
            scale = 1.0 / np.sqrt(self.running_var + self.eps)
            xhat = (x - Tensor(self.running_mean.reshape(shape))) * Tensor(scale.reshape(shape))
        if self.affine:
            xhat = xhat * self.weight.reshape(shape) + self.bias.reshape(shape)
        return xhat

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Normalise (N, C) or (N, C, L) over the batch (and length) per channel C."""

    ranks, layout = (2, 3), "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Normalise (N, C, H, W) per channel C over N, H and W."""

    ranks, layout = (4,), "(N, {C}, H, W)"


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dims; x (..., *normalized_shape).
    ``bias=False`` keeps the weight only (PyTorch's argument)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape, self.eps = tuple(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=np.float32))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=np.float32))
            else:
                self.register_parameter("bias", None)

    def forward(self, x):
        k = len(self.normalized_shape)
        if tuple(x.shape[-k:]) != self.normalized_shape:
            raise ValueError(f"LayerNorm{self.normalized_shape} got input of shape {x.shape}")
        xhat, _, _ = ops.normalize(x, tuple(range(x.ndim - k, x.ndim)), self.eps)
        if self.elementwise_affine:
            xhat = xhat * self.weight
            if self.bias is not None:
                xhat = xhat + self.bias
        return xhat


class GroupNorm(Module):
    """Normalise (N, C, *) over each of ``num_groups`` groups of C/num_groups channels (and all
    spatial positions), then a per-channel affine map."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True):
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype=np.float32))
            self.bias = Parameter(np.zeros(num_channels, dtype=np.float32))

    def forward(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}) expects (N, {self.num_channels}, *) "
                             f"input, got shape {x.shape}")
        shape = tuple(x.shape)
        grouped = ops.reshape(x, (shape[0], self.num_groups, -1))
        xhat, _, _ = ops.normalize(grouped, 2, self.eps)
        xhat = ops.reshape(xhat, shape)
        if self.affine:
            aff = (1, -1) + (1,) * (len(shape) - 2)
            xhat = xhat * self.weight.reshape(aff) + self.bias.reshape(aff)
        return xhat

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
