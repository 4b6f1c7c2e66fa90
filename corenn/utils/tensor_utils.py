"""Shape checks, broadcast shapes and one-hot encoding for ndarrays (gradients are summed back
to an input's shape by ``corenn.autograd.unbroadcast``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["assert_shape", "broadcast_shapes", "one_hot"]


def _shape_of(x) -> tuple:
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else np.shape(x)


def assert_shape(x, expected: Sequence, name: str = "array") -> None:
    """Raise ValueError unless x.shape matches `expected`.

    expected: sequence of ints or None (None matches any size), e.g.
    (None, 784) for a batch of flattened images.
    """
    shape = _shape_of(x)
    expected = tuple(expected)
    if len(shape) != len(expected):
        raise ValueError(
            f"{name}: expected {len(expected)} dimensions with shape {_fmt(expected)}, "
            f"got {len(shape)} dimensions with shape {shape}"
        )
    bad = [i for i, (s, e) in enumerate(zip(shape, expected)) if e is not None and s != e]
    if bad:
        dims = ", ".join(f"dim {i} is {shape[i]} (expected {expected[i]})" for i in bad)
        raise ValueError(f"{name}: expected shape {_fmt(expected)}, got {shape}: {dims}")


def _fmt(expected: tuple) -> str:
    inner = ", ".join("*" if e is None else str(e) for e in expected)
    return f"({inner},)" if len(expected) == 1 else f"({inner})"


def broadcast_shapes(*shapes: Sequence[int]) -> tuple:
    """NumPy broadcast of the given shapes; ValueError naming all shapes if incompatible."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(-ndim, 0):
        sizes = {s[i] for s in shapes if len(s) >= -i and s[i] != 1}
        if len(sizes) > 1:
            raise ValueError(
                f"shapes {', '.join(str(tuple(s)) for s in shapes)} cannot be broadcast together: "
                f"dimension {i} has sizes {sorted(sizes)}"
            )
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def one_hot(indices, num_classes: int, dtype=np.float32) -> np.ndarray:
    """One-hot encode integer `indices` of shape S into shape S + (num_classes,)."""
    idx = np.asarray(indices)
    if idx.dtype == bool or not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"one_hot: indices must be integers, got dtype {idx.dtype}")
    if int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive integer, got {num_classes}")
    num_classes = int(num_classes)
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(
            f"one_hot: indices must lie in [0, {num_classes - 1}], "
            f"got min {int(idx.min())} and max {int(idx.max())}"
        )
    out = np.zeros(idx.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, idx[..., None].astype(np.intp), 1, axis=-1)
    return out
