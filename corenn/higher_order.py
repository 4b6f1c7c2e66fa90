"""Gradients as Tensors: ``grad`` (PyTorch's ``torch.autograd.grad``) and the ``create_graph`` pass.

With ``create_graph=True`` every node runs a second, Tensor-level backward that an op registers beside itself
with ``@register_tensor_backward(op)``; built from corenn ops, the gradients it returns are graph nodes, so a
loss made from them (WGAN-GP's gradient penalty) backpropagates again. The first-order path in ``autograd``
is untouched. Public names are re-exported from ``corenn.autograd``.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .autograd import (
    FunctionCtx,
    _constant,
    _count_error,
    _first_order_pass,
    _freed,
    _op_name,
    _shape_error,
    enable_grad,
    no_grad,
    toposort,
)
from .tensor import Tensor

_TENSOR_BACKWARDS: dict = {}  # (module, op qualname) or a Function subclass -> Tensor-level backward


def register_tensor_backward(op: Callable | type) -> Callable:
    """Decorator: register the decorated ``fn(node, g, saved, needs)`` as the Tensor-level backward
    of ``op`` (an op function whose nodes carry a closure defined inside it, or a Function subclass).

    ``node`` is the output Tensor (its ``_parents`` are the op's inputs), ``g`` the gradient Tensor
    shaped like it, ``saved`` the variables the op's first-order closure captured, as attributes
    (for a Function: its ``ctx``), ``needs`` one bool per parent.  It returns one Tensor (or None)
    per parent, built from corenn ops so that it is itself differentiable."""
    def register(fn: Callable) -> Callable:
        _TENSOR_BACKWARDS[op if isinstance(op, type) else (op.__module__, op.__qualname__)] = fn
        return fn
    return register


class _Captured:
    """The variables a closure captured, by name (``saved.axes``)."""

    def __init__(self, fn: Callable):
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
            try:
                setattr(self, name, cell.cell_contents)
            except ValueError:  # a cell not yet filled
                pass


def _tensor_backward(node: Tensor) -> tuple:
    """(Tensor-level backward, saved) for ``node``; NotImplementedError naming the op if it has none."""
    fn = node._backward
    if fn is _freed:
        _freed(None)
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, FunctionCtx):
        found = _TENSOR_BACKWARDS.get(owner._function)
        saved = owner
    else:
        code = getattr(fn, "__code__", None)
        key = None if code is None else (fn.__module__, fn.__qualname__.rsplit(".<locals>.", 1)[0])
        found = _TENSOR_BACKWARDS.get(key)
        saved = None if found is None else _Captured(fn)
    if found is None:
        raise NotImplementedError(
            f"double backward (create_graph=True) is not implemented for {_op_name(fn)}: its backward "
            f"works on ndarrays only (ops with a Tensor-level backward: see corenn.autograd)")
    return found, saved


def _create_graph_pass(order: list, grads: dict, needed: set, retain_graph: bool, on_leaf: Callable,
                       on_node: Callable) -> None:
    """As ``_first_order_pass`` with Tensor gradients built from ops (grad mode on), so the gradients
    are themselves graph nodes.  Only parents in ``needed`` (on a path to an input) get gradients."""
    from . import ops
    with enable_grad():
        for node in reversed(order):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            on_node(node, g)
            parents = node._parents
            needs = tuple(p.requires_grad and id(p) in needed for p in parents)
            if True not in needs:
                continue
            fn, saved = _tensor_backward(node)
            parent_grads = fn(node, g, saved, needs)
            if len(parent_grads) != len(parents):
                raise RuntimeError(_count_error(node, parent_grads))
            for parent, pg, need in zip(parents, parent_grads, needs):
                if pg is None or not need:
                    continue
                if pg.shape != parent.data.shape:
                    raise RuntimeError(_shape_error(node, [q.data if q is not None else None
                                                           for q in parent_grads], pg.data))
                if pg.dtype != parent.data.dtype:
                    pg = ops.astype(pg, parent.data.dtype)
                if parent._backward is None:
                    on_leaf(parent, pg)
                else:
                    prev = grads.get(id(parent))
                    grads[id(parent)] = pg if prev is None else ops.add(prev, pg)
            if not retain_graph:
                node._backward = _freed
                node._parents = ()


def _as_seed(output: Tensor, g, i: int, create_graph: bool):
    """The seed gradient for ``output`` (ones for a scalar), checked against its shape."""
    if g is None:
        if output.data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs, but output {i} "
                               f"has shape {output.data.shape}; pass grad_outputs")
        g = np.ones_like(output.data)
    if isinstance(g, Tensor):
        g = g if create_graph else g.data
    else:
        g = np.asarray(g, dtype=output.data.dtype)
    if g.shape != output.data.shape:
        raise RuntimeError(f"grad_outputs[{i}] has shape {g.shape} but output {i} has shape "
                           f"{output.data.shape}")
    if create_graph and not isinstance(g, Tensor):
        g = _constant(g)
    return g


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated into ``.grad``).

    ``outputs``: a Tensor or a sequence; ``grad_outputs``: one seed per output (a Tensor, an array,
    or None for ones, allowed only for one-element outputs); ``inputs``: a Tensor or a sequence of
    Tensors that require grad.  Returns a tuple with one Tensor per input, or None for an input the
    outputs do not depend on when ``allow_unused`` (a RuntimeError otherwise).  ``retain_graph``
    defaults to ``create_graph``.  With ``create_graph`` the gradients are graph nodes built from
    each op's Tensor-level backward, so a loss built from them can be differentiated again;
    an op without one raises NotImplementedError naming it.  As torch.autograd.grad.
    """
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    grad_outputs = tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad_outputs has {len(grad_outputs)} entries for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"input {i} of grad() does not require grad (it must be a Tensor with "
                               f"requires_grad=True, or computed from one)")
    for i, t in enumerate(outputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"output {i} of grad() does not require grad and has no graph "
                               f"(computed under no_grad, or from constants only?)")
    retain_graph = create_graph if retain_graph is None else retain_graph
    wanted = {id(t): i for i, t in enumerate(inputs)}
    result: list = [None] * len(inputs)

    def collect(t: Tensor, g) -> None:
        i = wanted.get(id(t))
        if i is not None:
            result[i] = g if result[i] is None else result[i] + g

    grads: dict = {}
    for i, (o, g) in enumerate(zip(outputs, grad_outputs)):
        g = _as_seed(o, g, i, create_graph)
        if o._backward is None:  # an output that is itself a leaf input
            collect(o, g)
        else:
            prev = grads.get(id(o))
            grads[id(o)] = g if prev is None else prev + g
    order = toposort(list(outputs))
    if create_graph:
        needed = set(wanted)
        for node in order:  # post-order: parents are decided before their consumers
            if any(id(p) in needed for p in node._parents):
                needed.add(id(node))
        _create_graph_pass(order, grads, needed, retain_graph, collect, collect)
    else:
        with no_grad():
            _first_order_pass(order, grads, retain_graph, collect, collect)
    out, handed_out = [], set()
    for i, (t, g) in enumerate(zip(inputs, result)):
        if g is None:
            if not allow_unused:
                hint = (" (or reaches them only through piecewise-linear slopes such as relu's, whose "
                        "derivative is a constant)") if create_graph else ""
                raise RuntimeError(f"input {i} of grad() (shape {t.data.shape}) was not used to compute "
                                   f"the outputs{hint}; pass allow_unused=True to get None for it")
        elif not isinstance(g, Tensor):  # an ndarray: a copy unless it is this result's own
            if id(g) in handed_out or not g.flags.owndata or not g.flags.writeable:
                g = g.copy()
            handed_out.add(id(g))
            g = _constant(g.astype(t.data.dtype, copy=False))
        out.append(g)
    return tuple(out)
