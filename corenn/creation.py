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
