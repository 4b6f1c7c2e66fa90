"""Grad mode, graph nodes, reverse-mode traversal and ``Function`` (ops with a hand-written backward).

Node contract
-------------
A graph node is a Tensor produced by an op while grad mode is on and some input requires grad.
It holds

* ``data``: the op's output (ndarray);
* ``_parents``: a tuple of the op's input Tensors;
* ``_backward``: a callable mapping ``g``, the gradient of the loss with respect to the output
  (an ndarray of the output's shape, possibly a read-only view: never modify it in place), to a
  tuple with exactly one entry per parent: an ndarray of that parent's shape, or ``None`` where
  the parent needs no gradient.

Leaves (inputs, parameters, constants) have ``_backward is None``.  ``backward`` checks every
node as it runs it: a wrong number of gradients, or a gradient whose shape differs from its
parent's, raises a RuntimeError naming the op.  Nothing is broadcast or summed for an op, so an
op on broadcast operands sums its gradients back itself (``unbroadcast``).  A gradient in
another dtype than its parent's (float64 data meeting float32 weights) is cast to the parent's
dtype, so every ``.grad`` has its tensor's dtype.  The traversal is iterative, so graph depth is
unbounded.

Defining an op
--------------
Subclass ``Function`` with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``
and call ``apply``; ``forward`` gets ndarrays for Tensor arguments, ``backward`` returns one
gradient per Tensor argument (see ``Function`` and ``FunctionCtx`` for the details)::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):                 # x: ndarray, the Tensor's data
            out = np.exp(x)
            ctx.save_for_backward(out)
            return out
        @staticmethod
        def backward(ctx, g):                # g: ndarray shaped like the output
            (out,) = ctx.saved_tensors
            return g * out                   # shaped like x

    y = Exp.apply(t)

A call with several outputs adds one hidden node: each output's only parent is a node (empty
placeholder data) whose backward calls the Function's backward once, with every output's gradient.

Inside corenn, ops may instead build nodes directly with ``Tensor._node(data, parents,
backward_fn)`` (``ops.common.node``): the same contract without the ``Function`` wrapper.

Gradients of gradients (``grad(..., create_graph=True)``)
--------------------------------------------------------
``grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused)`` returns the
gradients instead of accumulating them, as ``torch.autograd.grad``.  Without ``create_graph`` it runs
the first-order pass above.  With it, every gradient is a Tensor built from corenn ops, so a loss
made from it (WGAN-GP's penalty) backpropagates again, to the parameters and to the inputs.  That
pass calls, per node, the op's *Tensor-level backward*, registered next to the op with
``@register_tensor_backward(op)``::

    @register_tensor_backward(mul)
    def _mul_grad(node, g, saved, needs):      # g: Tensor shaped like node
        a, b = node._parents
        return sum_to(g * b, a.shape), sum_to(g * a, b.shape)

``node`` is the output (its ``_parents`` the inputs; it may itself be used, e.g. exp's ``g * node``),
``saved`` the variables the op's first-order closure captured, by name (``saved.axes``; for a
``Function``, its ``ctx``) and ``needs`` one bool per parent (only parents on a path to ``inputs``).
The registry is keyed by the function that defines the node's closure (or the Function subclass), and
the static arguments are read from that closure, so the first-order path creates nothing extra per
op call and loses no speed.  A node whose op has no Tensor-level backward raises
``NotImplementedError`` naming the op.  Piecewise-linear ops (relu, leaky_relu, max) multiply by
constant masks, so an input reached only through such slopes gets no gradient (None), where torch
returns zeros.  ``Tensor.backward(create_graph=True)`` is refused: ``.grad`` stays an ndarray.
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from .tensor import Tensor


class _GradState(threading.local):
    """Grad mode, one per thread as in PyTorch: every thread starts with it on."""

    enabled = True


_state = _GradState()


def is_grad_enabled() -> bool:
    return _state.enabled


class _GradMode:
    """Context manager and decorator that sets grad mode for its scope."""

    mode = True

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self.mode

    def __exit__(self, *exc):
        _state.enabled = self._prev
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


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` (a broadcast shape) down to ``shape``, the inverse of NumPy broadcasting.

    Leading extra axes are summed away, and axes where ``shape`` has size 1 are summed with
    keepdims.  Returns ``grad`` itself when the shapes already match; ValueError when ``grad``
    cannot have been broadcast from ``shape``.
    """
    if grad.shape == shape:
        return grad
    shape = tuple(shape)
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(f"unbroadcast: gradient shape {grad.shape} has fewer dims than target {shape}")
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:
        raise ValueError(f"unbroadcast: gradient shape {grad.shape} cannot be reduced to {shape}")
    return grad


# ---- Function: an op with a hand-written backward --------------------------------------------------
class FunctionCtx:
    """What a Function's forward leaves for its backward.

    ``save_for_backward(*arrays)`` stores arrays, read back as ``saved_tensors``;
    ``needs_input_grad`` is a tuple of bools, one per Tensor input (all False when no graph is
    built); forward may set any other attribute.  ``set_materialize_grads(False)`` makes a
    multi-output backward receive None, instead of zeros, for outputs that did not reach the loss.
    """

    saved_tensors: tuple = ()
    materialize_grads: bool = True

    def __init__(self, function: type, needs_input_grad: tuple):
        self._function = function
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *arrays: Any) -> None:
        self.saved_tensors = arrays

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)

    def _backward(self, g: np.ndarray) -> tuple:
        """Node backward of a single-output call."""
        grads = self._function.backward(self, g)
        return grads if isinstance(grads, (tuple, list)) else (grads,)

    def _backward_outputs(self, outputs: _OutputGrads) -> tuple:
        """Node backward of the hidden node joining a multi-output call's outputs."""
        grads, outputs.grads = outputs.grads, [None] * len(outputs.grads)
        if self.materialize_grads:
            grads = [np.zeros_like(a) if g is None else g for g, a in zip(grads, outputs.arrays)]
        grads = self._function.backward(self, *grads)
        return grads if isinstance(grads, (tuple, list)) else (grads,)


_JOIN_DATA = np.empty(0, np.float32)  # placeholder data of the node joining a call's outputs
_JOIN_DATA.flags.writeable = False


class _OutputGrads:
    """The gradients reaching the outputs of one multi-output call, gathered until the hidden node
    joining those outputs runs.  Every output hands this same object to that node, so adding
    two of them is a no-op; ``shape`` and ``dtype`` match the node's placeholder data."""

    __slots__ = ("grads", "arrays")
    shape = _JOIN_DATA.shape
    dtype = _JOIN_DATA.dtype

    def __init__(self, arrays: tuple):
        self.arrays = arrays
        self.grads = [None] * len(arrays)

    def __add__(self, other: _OutputGrads) -> _OutputGrads:
        return self

    def receive(self, index: int, g: np.ndarray) -> tuple:
        self.grads[index] = g
        return (self,)


def _graph_tensor(data: np.ndarray, parents: tuple, backward_fn: Callable) -> Tensor:
    out = Tensor.__new__(Tensor)
    out.data = data
    out.grad = None
    out.requires_grad = True
    out._parents = parents
    out._backward = backward_fn
    return out


def _constant(data) -> Tensor:
    out = Tensor.__new__(Tensor)
    out.data = data if isinstance(data, np.ndarray) else np.asarray(data)
    out.grad = None
    out.requires_grad = False
    out._parents = ()
    out._backward = None
    return out


class Function:
    """An op with a hand-written backward; call it as ``MyOp.apply(*args, **kwargs)``.

    ``forward(ctx, *args, **kwargs)`` (a staticmethod) gets the ``.data`` ndarray of every argument
    that is a Tensor (positional or keyword; Tensors inside lists are not inputs) and every other
    argument unchanged.  It returns one ndarray, or a tuple of ndarrays for several outputs.

    ``backward(ctx, *grad_outputs)`` (a staticmethod) gets one gradient per output, each shaped
    like its output (for several outputs, zeros for an output that did not reach the loss, or None
    after ``ctx.set_materialize_grads(False)``), and returns one gradient per Tensor input, in
    argument order (positional, then keyword): an ndarray of that input's shape and dtype, or None.
    A single value may be returned when there is one Tensor input.  Broadcasting between inputs
    is the op's to undo (see ``unbroadcast``); a wrong shape raises a RuntimeError naming the op.

    ``apply`` returns a Tensor, or a tuple of Tensors for a tuple of outputs (non-float outputs
    are constants).  Without grad mode, or when no Tensor input requires grad, it builds no graph
    node and keeps no reference to ``ctx``.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A Function subclass must define both static methods: checked when the class is defined."""
        super().__init_subclass__(**kwargs)
        missing = [name for name in ("forward", "backward") if not callable(getattr(cls, name, None))]
        if missing:
            raise TypeError(f"{cls.__name__} must define static {' and '.join(missing)}(ctx, ...) "
                            "to be a corenn.autograd.Function")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor | tuple[Tensor, ...]:
        inputs, needs, raw = [], [], []
        for a in args:
            if isinstance(a, Tensor):
                inputs.append(a)
                needs.append(a.requires_grad)
                a = a.data
            raw.append(a)
        if kwargs:
            for k, v in kwargs.items():  # kwargs is this call's own dict
                if isinstance(v, Tensor):
                    inputs.append(v)
                    needs.append(v.requires_grad)
                    kwargs[k] = v.data
        track = _state.enabled and True in needs
        ctx = FunctionCtx(cls, tuple(needs) if track else (False,) * len(needs))
        out = cls.forward(ctx, *raw, **kwargs)
        if type(out) is not tuple:
            if not track:
                return _constant(out)
            return _graph_tensor(out if isinstance(out, np.ndarray) else np.asarray(out),
                                 tuple(inputs), ctx._backward)
        arrays = tuple(a if isinstance(a, np.ndarray) else np.asarray(a) for a in out)
        if not track:
            return tuple(_constant(a) for a in arrays)
        gathered = _OutputGrads(arrays)
        join = _graph_tensor(_JOIN_DATA, tuple(inputs), ctx._backward_outputs)
        return tuple(_graph_tensor(a, (join,), functools.partial(gathered.receive, i))
                     if a.dtype.kind == "f" else _constant(a) for i, a in enumerate(arrays))


# ---- reverse-mode traversal ------------------------------------------------------------------------
def toposort(root) -> list:
    """Interior nodes reachable from ``root`` (a Tensor or a sequence of them) in post-order (inputs
    first)."""
    order, seen = [], set()
    roots = reversed(root) if isinstance(root, (tuple, list)) else (root,)
    stack = [(r, False) for r in roots if r._backward is not None]
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


def _accumulate_leaf(leaf: Tensor, g: np.ndarray, handed_out: set) -> None:
    """Add ``g`` (the leaf's shape and dtype) into ``leaf.grad``; copy when ``g`` may be shared or
    read-only."""
    if leaf.grad is None:
        if id(g) in handed_out or not g.flags.owndata or not g.flags.writeable:
            g = g.copy()
        handed_out.add(id(g))
        leaf.grad = g
    else:
        leaf.grad = leaf.grad + g


def backward(root: Tensor, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Reverse-mode pass from ``root`` seeded with ``grad`` (ndarray of root's shape); every leaf
    reached accumulates into ``.grad``."""
    handed_out = set()
    if root._backward is None:
        _accumulate_leaf(root, grad, handed_out)
        return
    _first_order_pass(toposort(root), {id(root): grad}, retain_graph,
                      functools.partial(_accumulate_leaf, handed_out=handed_out))


def _first_order_pass(order: list, grads: dict, retain_graph: bool, on_leaf: Callable,
                      on_node: Callable | None = None) -> None:
    """Run every node of ``order`` (post-order) from the seeds in ``grads`` (id -> ndarray): each
    leaf's gradients go to ``on_leaf(leaf, g)`` one by one, each node's summed gradient to
    ``on_node(node, g)`` before its backward runs."""
    for node in reversed(order):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        if on_node is not None:
            on_node(node, g)
        parents = node._parents
        parent_grads = node._backward(g)
        try:
            if len(parent_grads) != len(parents):
                raise RuntimeError(_count_error(node, parent_grads))
        except TypeError:  # not a sequence (None, an array scalar)
            raise RuntimeError(_count_error(node, parent_grads)) from None
        for parent, pg in zip(parents, parent_grads):
            if pg is None or not parent.requires_grad:
                continue
            data = parent.data
            try:
                if pg.shape != data.shape:
                    raise RuntimeError(_shape_error(node, parent_grads, pg))
                if pg.dtype is not data.dtype:  # e.g. float64 data met a float32 parameter
                    pg = pg.astype(data.dtype, copy=False)
            except AttributeError:
                raise RuntimeError(_shape_error(node, parent_grads, pg)) from None
            if parent._backward is None:
                on_leaf(parent, pg)
            else:
                key = id(parent)
                prev = grads.get(key)
                grads[key] = pg if prev is None else prev + pg
        if not retain_graph:
            node._backward = _freed
            node._parents = ()


def _op_name(backward_fn: Callable) -> str:
    """A readable name for the op behind a node's ``_backward``: the Function subclass's name, or
    the qualified name of the function defining the closure (``mul`` for ``mul.<locals>.backward``)."""
    owner = getattr(backward_fn, "__self__", None)
    if isinstance(owner, FunctionCtx):
        return owner._function.__name__
    name = getattr(backward_fn, "__qualname__", None)
    if name is None:
        return repr(backward_fn)
    parts = [p for p in name.split(".") if p != "<locals>"]
    if len(parts) > 1 and parts[-1] in ("backward", "<lambda>"):
        parts.pop()
    return ".".join(parts)


def _count_error(node: Tensor, parent_grads) -> str:
    n = len(node._parents)
    if not isinstance(parent_grads, (tuple, list)):
        return (f"backward of {_op_name(node._backward)} returned a {type(parent_grads).__name__}, "
                f"not a tuple of {n} gradient(s), one per input")
    return (f"backward of {_op_name(node._backward)} returned {len(parent_grads)} gradient(s) "
            f"for {n} input(s)")


def _shape_error(node: Tensor, parent_grads, pg) -> str:
    i = next(i for i, q in enumerate(parent_grads) if q is pg)
    parent = node._parents[i]
    what = (f"a gradient of shape {pg.shape}" if hasattr(pg, "shape") and hasattr(pg, "dtype")
            else f"a {type(pg).__name__} (not an ndarray) as the gradient")
    return (f"backward of {_op_name(node._backward)} returned {what} for input {i} of shape "
            f"{parent.data.shape}")


def _freed(g):
    raise RuntimeError(
        "Trying to backward through the graph a second time; its saved values were "
        "freed. Pass retain_graph=True to the first backward() if you need this.")


# corenn.autograd.grad (gradients returned as Tensors, differentiable again with create_graph=True) lives in
# corenn/higher_order.py, one concept per file; it is re-exported here, where PyTorch users look for it.
from . import higher_order  # noqa: E402  (imported last: it builds on the names above)

grad = higher_order.grad
register_tensor_backward = higher_order.register_tensor_backward
