"""Shared helpers for op definitions."""
import numbers

import numpy as np

from ..autograd import register_tensor_backward, unbroadcast  # noqa: F401  (re-exported for the op modules)
from ..tensor import Tensor

node = Tensor._node


def as_tensor(x):
    """Wrap a non-Tensor operand as a constant tensor (Python numbers stay float32-friendly)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, numbers.Number):
        return Tensor(np.asarray(x, dtype=np.float32))
    return Tensor(np.asarray(x))


def is_scalar(x):
    return isinstance(x, numbers.Number) and not isinstance(x, bool)


def norm_axis(axis, ndim):
    """Normalise an int/tuple/None axis argument to a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    out = []
    for a in axis:
        if not -ndim <= a < max(ndim, 1):
            raise IndexError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(a % ndim if ndim else 0)
    return tuple(sorted(out))


def expand_reduced(g, shape, axes, keepdims):
    """Broadcast a reduced gradient ``g`` back to ``shape`` (a read-only view)."""
    if not keepdims:
        g = np.expand_dims(g, axes) if axes else g
    return np.broadcast_to(g, shape)
