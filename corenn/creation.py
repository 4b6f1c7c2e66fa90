"""Tensor factories (float32 unless a dtype is given)."""
import numpy as np

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


def zeros_like(t, requires_grad=False):
    return Tensor(np.zeros_like(t.data), requires_grad=requires_grad)


def ones_like(t, requires_grad=False):
    return Tensor(np.ones_like(t.data), requires_grad=requires_grad)


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
