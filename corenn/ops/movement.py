"""Shape and indexing ops: views, gathers, joins and splits."""
import numpy as np

from . import reduce as rd
from .common import Tensor, as_tensor, node, register_tensor_backward, unbroadcast


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def reshape(x, *shape):
    src = x.data.shape
    try:
        out = x.data.reshape(_shape_arg(shape))
    except ValueError:
        raise ValueError(f"cannot reshape tensor of shape {src} ({x.data.size} elements) "
                         f"into shape {_shape_arg(shape)}") from None
    return node(out, (x,), lambda g: (g.reshape(src),))


def flatten(x, start_dim=0, end_dim=-1):
    shape = x.data.shape
    if not shape:
        return reshape(x, (1,))
    s, e = start_dim % len(shape), end_dim % len(shape)
    return reshape(x, shape[:s] + (-1,) + shape[e + 1:])


def squeeze(x, axis=None):
    src = x.data.shape
    if axis is not None:
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        axes = tuple(a for a in axes if src[a] == 1)
        out = np.squeeze(x.data, axis=axes)
    else:
        out = np.squeeze(x.data)
    return node(out, (x,), lambda g: (g.reshape(src),))


def unsqueeze(x, axis):
    src = x.data.shape
    return node(np.expand_dims(x.data, axis), (x,), lambda g: (g.reshape(src),))


def permute(x, *dims):
    dims = _shape_arg(dims)
    inverse = tuple(np.argsort(dims))
    return node(np.transpose(x.data, dims), (x,), lambda g: (np.transpose(g, inverse),))


def transpose(x, dim0=None, dim1=None):
    """Reverse all dims (``x.T``) or, given two dims, swap them (PyTorch's transpose)."""
    if dim0 is None:
        return permute(x, tuple(reversed(range(x.ndim))))
    return swapaxes(x, dim0, dim1)


def swapaxes(x, a, b):
    return node(np.swapaxes(x.data, a, b), (x,), lambda g: (np.swapaxes(g, a, b),))


def expand(x, *sizes):
    sizes = _shape_arg(sizes)
    src = x.data.shape
    lead = len(sizes) - len(src)
    target = tuple(src[i - lead] if (n == -1 and i >= lead) else n for i, n in enumerate(sizes))
    return node(np.broadcast_to(x.data, target), (x,), lambda g: (unbroadcast(g, src),))


def _raw_index(idx):
    if isinstance(idx, Tensor):
        return idx.data
    if isinstance(idx, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in idx)
    return idx


def _is_advanced(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    return any(isinstance(i, (np.ndarray, list)) for i in items)


def getitem(x, idx):
    idx = _raw_index(idx)
    xd = x.data
    out = xd[idx]
    advanced = _is_advanced(idx)

    def backward(g):
        full = np.zeros(xd.shape, dtype=g.dtype)
        if advanced:
            np.add.at(full, idx, g)
        else:
            full[idx] = g
        return (full,)
    return node(out, (x,), backward)


def concatenate(tensors, axis=0):
    tensors = [as_tensor(t) for t in tensors]
    out = np.concatenate([t.data for t in tensors], axis=axis)
    bounds = np.cumsum([t.data.shape[axis] for t in tensors])[:-1]
    return node(out, tuple(tensors), lambda g: tuple(np.split(g, bounds, axis=axis)))


def stack(tensors, axis=0):
    tensors = [as_tensor(t) for t in tensors]
    out = np.stack([t.data for t in tensors], axis=axis)

    def backward(g):
        return tuple(np.take(g, i, axis=axis) for i in range(len(tensors)))
    return node(out, tuple(tensors), backward)


def split(x, split_size_or_sections, axis=0):
    """PyTorch semantics: an int is a chunk size; a list gives the sizes of the parts."""
    n = x.data.shape[axis]
    if isinstance(split_size_or_sections, int):
        sizes = [split_size_or_sections] * (n // split_size_or_sections)
        if n % split_size_or_sections:
            sizes.append(n % split_size_or_sections)
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split sizes {sizes} sum to {sum(sizes)}, but dim {axis} has {n}")
    parts, start = [], 0
    for size in sizes:
        index = [slice(None)] * x.ndim
        index[axis] = slice(start, start + size)
        parts.append(getitem(x, tuple(index)))
        start += size
    return tuple(parts)


def chunk(x, chunks, axis=0):
    n = x.data.shape[axis]
    return split(x, -(-n // chunks), axis)


def pad(x, pad_width, value=0.0):
    """Constant padding; ``pad_width`` as for ``np.pad`` (one (before, after) pair per dim)."""
    pw = np.broadcast_to(np.asarray(pad_width, dtype=int), (x.ndim, 2)) if np.ndim(pad_width) < 2 \
        else np.asarray(pad_width, dtype=int)
    out = np.pad(x.data, pw, mode="constant", constant_values=value)
    inner = tuple(slice(b, out.shape[i] - a) for i, (b, a) in enumerate(pw))
    return node(out, (x,), lambda g: (g[inner],))


def _scatter(g, idx, shape, advanced):
    """The adjoint of ``getitem``: zeros of ``shape`` with ``g`` added at ``idx`` (Tensor-level
    backward of getitem, and getitem is its own)."""
    full = np.zeros(shape, dtype=g.dtype)
    if advanced:
        np.add.at(full, idx, g.data)
    else:
        full[idx] = g.data
    return node(full, (g,), lambda gg: (gg[idx],))


# ---- Tensor-level backwards (create_graph=True), see corenn.autograd ---------------------------------
@register_tensor_backward(reshape)
@register_tensor_backward(squeeze)
@register_tensor_backward(unsqueeze)
def _reshape_grad(node, g, saved, needs):
    return (reshape(g, saved.src),)


@register_tensor_backward(permute)
def _permute_grad(node, g, saved, needs):
    return (permute(g, saved.inverse),)


@register_tensor_backward(swapaxes)
def _swapaxes_grad(node, g, saved, needs):
    return (swapaxes(g, saved.a, saved.b),)


@register_tensor_backward(expand)
def _expand_grad(node, g, saved, needs):
    return (rd.sum_to(g, saved.src),)


@register_tensor_backward(getitem)
def _getitem_grad(node, g, saved, needs):
    return (_scatter(g, saved.idx, saved.xd.shape, saved.advanced),)


@register_tensor_backward(_scatter)
def _scatter_grad(node, g, saved, needs):
    return (getitem(g, saved.idx),)


@register_tensor_backward(concatenate)
def _concatenate_grad(node, g, saved, needs):
    axis, starts = saved.axis % g.ndim, (0, *saved.bounds)
    lead = (slice(None),) * axis
    return tuple(getitem(g, lead + (slice(s, s + t.shape[axis]),)) if need else None
                 for s, t, need in zip(starts, node._parents, needs))


@register_tensor_backward(stack)
def _stack_grad(node, g, saved, needs):
    lead = (slice(None),) * (saved.axis % g.ndim)
    return tuple(getitem(g, lead + (i,)) if need else None for i, need in enumerate(needs))


@register_tensor_backward(pad)
def _pad_grad(node, g, saved, needs):
    return (getitem(g, saved.inner),)
