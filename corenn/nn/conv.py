"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d (PyTorch's arguments,
weight layouts and default init: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias,
which is kaiming_uniform_ with a=sqrt(5))."""
import math

import numpy as np

from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from . import init
from .module import Module, Parameter


def _ntuple(v, n, name, cls):
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return (int(v),) * n
    if isinstance(v, (tuple, list)) and len(v) == n and all(
            isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in v):
        return tuple(int(e) for e in v)
    raise ValueError(f"{cls}: {name} must be an int or a tuple of {n} ints, got {v!r}")


class _ConvNd(Module):
    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", output_padding=0, dtype=np.float32):
        super().__init__()
        name, n = type(self).__name__, self._dims
        for arg, v in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < (1 if arg == "groups" else 0):
                raise ValueError(f"{name}: {arg} must be a {'positive' if arg == 'groups' else 'non-negative'} "
                                 f"int, got {v!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size", name)
        self.stride = _ntuple(stride, n, "stride", name)
        self.dilation = _ntuple(dilation, n, "dilation", name)
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.dilation) < 1:
            raise ValueError(f"{name}: kernel_size, stride and dilation must be >= 1, got "
                             f"{self.kernel_size}, {self.stride}, {self.dilation}")
        if isinstance(padding, str):
            if self._transposed or padding not in ("valid", "same"):
                allowed = "an int or a tuple" if self._transposed else "'valid', 'same', an int or a tuple"
                raise ValueError(f"{name}: padding must be {allowed}, got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions "
                                 f"(stride {self.stride})")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, n, "padding", name)
            if min(self.padding) < 0:
                raise ValueError(f"{name}: padding must be >= 0, got {self.padding}")
        self.output_padding = _ntuple(output_padding, n, "output_padding", name)
        if self._transposed:
            for op, s, d in zip(self.output_padding, self.stride, self.dilation):
                if op < 0 or (op >= s and op >= d):
                    raise ValueError(f"{name}: output_padding ({self.output_padding}) must be smaller than "
                                     f"either stride ({self.stride}) or dilation ({self.dilation})")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.padding_mode = padding_mode
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        fan_in = shape[1] * math.prod(self.kernel_size)  # torch's fan_in of the weight tensor
        bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        init.uniform_(self.weight, -bound, bound)
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=dtype))
            init.uniform_(self.bias, -bound, bound)
        else:
            self.register_parameter("bias", None)

    def _check_input(self, x):
        shape = getattr(x, "shape", None)
        n, name = self._dims, type(self).__name__
        if shape is None or len(shape) not in (n + 1, n + 2):
            raise ValueError(f"{name} expected a {n + 2}-D (batched) or {n + 1}-D (unbatched) input, "
                             f"got shape {shape}")
        c = shape[-n - 1]
        if c != self.in_channels:
            raise ValueError(f"{name} expected {self.in_channels} input channels, got {c} "
                             f"(input shape {tuple(shape)})")

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """x (N, C_in, L) or (C_in, L) -> (N, C_out, L_out); weight (C_out, C_in/groups, k)."""
    _dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", dtype=np.float32):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, dtype=dtype)

    def forward(self, x):
        self._check_input(x)
        return conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """x (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out); weight (C_out, C_in/groups, kH, kW)."""
    _dims = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", dtype=np.float32):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, dtype=dtype)

    def forward(self, x):
        self._check_input(x)
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose1d(_ConvNd):
    """x (N, C_in, L) or (C_in, L) -> (N, C_out, L_out); weight (C_in, C_out/groups, k)."""
    _dims = 1
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", dtype=np.float32):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, output_padding, dtype=dtype)

    def forward(self, x):
        self._check_input(x)
        return conv_transpose1d(x, self.weight, self.bias, self.stride, self.padding,
                                self.output_padding, self.groups, self.dilation)


class ConvTranspose2d(_ConvNd):
    """x (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out); weight (C_in, C_out/groups, kH, kW)."""
    _dims = 2
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", dtype=np.float32):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, output_padding, dtype=dtype)

    def forward(self, x):
        self._check_input(x)
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                self.output_padding, self.groups, self.dilation)
