"""Tensor factories (float32 unless a dtype is given), and torch's joining functions with `dim=`.

Factories build constants (no graph, like torch's); `cat`/`concatenate`/`stack` are differentiable.
"""
import numpy as np

from . import ops
from .tensor import Tensor

_rng = {"gen": np.random.default_rng()}


def manual_seed(seed):
    """Seed the generator used by ``randn``/``rand`` and by ``nn`` initialisation."""
    _rng["gen"] = np.random.default_rng(seed)
    return _rng["gen"]


def generator():
    return _rng["gen"]


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def zeros(*shape, dtype=np.float32, requires_grad=False):
    return Tensor(np.zeros(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape, dtype=np.float32, requires_grad=False):
    return Tensor(np.ones(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def full(shape, fill_value, dtype=np.float32, requires_grad=False):
    return Tensor(np.full(shape, fill_value, dtype=dtype), requires_grad=requires_grad)


def _data(t) -> np.ndarray:
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def _like_dtype(t, dtype):
    return _data(t).dtype if dtype is None else np.dtype(dtype)


def zeros_like(t, dtype=None, requires_grad=False):
    """Zeros shaped like `t` (its dtype unless `dtype` is given)."""
    return Tensor(np.zeros(_data(t).shape, _like_dtype(t, dtype)), requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return Tensor(np.ones(_data(t).shape, _like_dtype(t, dtype)), requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    return Tensor(np.full(_data(t).shape, fill_value, _like_dtype(t, dtype)), requires_grad=requires_grad)


def empty_like(t, dtype=None, requires_grad=False):
    """Shaped like `t`; its values are unspecified (zeros here, as NumPy gives no cheaper safe choice)."""
    return zeros_like(t, dtype, requires_grad)


def _float_dtype(t, dtype):
    dt = _like_dtype(t, dtype)
    if dt.kind != "f":
        raise TypeError(f"random tensors need a floating dtype, got {dt} (pass dtype=np.float32)")
    return dt


def randn_like(t, dtype=None, requires_grad=False):
    """Standard normal samples shaped like `t` from the generator `manual_seed` sets."""
    dt = _float_dtype(t, dtype)
    return Tensor(_rng["gen"].standard_normal(_data(t).shape).astype(dt), requires_grad=requires_grad)


def rand_like(t, dtype=None, requires_grad=False):
    """Uniform [0, 1) samples shaped like `t`."""
    dt = _float_dtype(t, dtype)
    return Tensor(_rng["gen"].random(_data(t).shape).astype(dt), requires_grad=requires_grad)


def empty(*shape, dtype=np.float32, requires_grad=False):
    return zeros(*shape, dtype=dtype, requires_grad=requires_grad)


def linspace(start, end, steps, dtype=np.float32, requires_grad=False):
    """`steps` evenly spaced values from start to end inclusive (torch.linspace)."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    return Tensor(np.linspace(start, end, int(steps), dtype=dtype), requires_grad=requires_grad)


def eye(n, m=None, dtype=np.float32, requires_grad=False):
    """(n, m) identity matrix (m defaults to n)."""
    return Tensor(np.eye(n, m, dtype=dtype), requires_grad=requires_grad)


def randn(*shape, dtype=np.float32, requires_grad=False):
    data = _rng["gen"].standard_normal(_shape(shape)).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


def rand(*shape, dtype=np.float32, requires_grad=False):
    data = _rng["gen"].random(_shape(shape)).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


def arange(*args, dtype=None):
    return Tensor(np.arange(*args, dtype=dtype))


def from_numpy(array):
    """Share memory with ``array`` (no copy), as torch.from_numpy does."""
    return Tensor(np.asarray(array))


def as_tensor(data, dtype=None):
    """``data`` as a Tensor without copying when it can (torch.as_tensor): a Tensor of the right
    dtype is returned as it is; arrays and numbers become constant tensors (float32 unless
    ``data`` is a float ndarray or ``dtype`` says otherwise)."""
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype == dtype else data.to(dtype)
    if dtype is None and not (isinstance(data, np.ndarray) and data.dtype.kind == "f"):
        dtype = np.float32
    return Tensor(np.asarray(data, dtype=dtype))


def _dim(dim, axis, name: str) -> int:
    if axis is not None and dim is not None and axis != dim:
        raise TypeError(f"{name}: pass either dim or axis, not both")
    return axis if axis is not None else (0 if dim is None else dim)


def cat(tensors, dim=None, *, axis=None):
    """Concatenate along an existing dimension (torch.cat; `axis=` as NumPy). Differentiable."""
    if isinstance(tensors, (Tensor, np.ndarray)):
        raise TypeError("cat expects a sequence of tensors, got a single tensor")
    return ops.concatenate(list(tensors), axis=_dim(dim, axis, "cat"))


concatenate = cat


def stack(tensors, dim=None, *, axis=None):
    """Stack along a new dimension (torch.stack). Differentiable."""
    if isinstance(tensors, (Tensor, np.ndarray)):
        raise TypeError("stack expects a sequence of tensors, got a single tensor")
    return ops.stack(list(tensors), axis=_dim(dim, axis, "stack"))
