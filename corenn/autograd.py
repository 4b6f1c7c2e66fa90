"""Grad mode, graph nodes and reverse-mode traversal.

A graph node is a Tensor whose ``_backward`` maps the output gradient ``g``
(same shape as the output) to a tuple of input gradients, one per entry of
``_parents`` (``None`` where an input needs none).  Leaves have
``_backward is None``.  The traversal is iterative, so depth is unbounded.
"""
import functools

import numpy as np

_state = {"enabled": True}


def is_grad_enabled():
    return _state["enabled"]


class _GradMode:
    """Context manager and decorator that sets grad mode for its scope."""

    mode = True

    def __enter__(self):
        self._prev = _state["enabled"]
        _state["enabled"] = self.mode

    def __exit__(self, *exc):
        _state["enabled"] = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Disable graph building: results are plain leaves, nothing is saved."""

    mode = False


class enable_grad(_GradMode):
    mode = True


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape`` (the inverse of NumPy broadcasting)."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def toposort(root):
    """Interior nodes reachable from ``root`` in post-order (inputs first)."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if parent._backward is not None and id(parent) not in seen:
                stack.append((parent, False))
    return order


def _accumulate_leaf(leaf, g, handed_out):
    """Add ``g`` into ``leaf.grad``; copy when ``g`` may be shared or read-only."""
    if g.shape != leaf.data.shape:
        g = unbroadcast(g, leaf.data.shape)
    if leaf.grad is None:
        if g.dtype != leaf.data.dtype:
            g = g.astype(leaf.data.dtype)
        elif id(g) in handed_out or not g.flags.owndata or not g.flags.writeable:
            g = g.copy()
        handed_out.add(id(g))
        leaf.grad = g
    else:
        leaf.grad = leaf.grad + g


def backward(root, grad, retain_graph=False):
    """Reverse-mode pass from ``root`` seeded with ``grad`` (ndarray of root's shape)."""
    handed_out = set()
    if root._backward is None:
        _accumulate_leaf(root, grad, handed_out)
        return
    order = toposort(root)
    grads = {id(root): grad}
    for node in reversed(order):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        parent_grads = node._backward(g)
        for parent, pg in zip(node._parents, parent_grads):
            if pg is None or not parent.requires_grad:
                continue
            if parent._backward is None:
                _accumulate_leaf(parent, pg, handed_out)
            else:
                key = id(parent)
                prev = grads.get(key)
                grads[key] = pg if prev is None else prev + pg
        if not retain_graph:
            node._backward = _freed
            node._parents = ()


def _freed(g):
    raise RuntimeError(
        "Trying to backward through the graph a second time; its saved values were "
        "freed. Pass retain_graph=True to the first backward() if you need this.")
