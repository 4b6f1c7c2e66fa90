"""Tensor: an ndarray with an optional place in the autograd graph."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_FLOAT_DEFAULT = np.float32


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """ndarrays keep their dtype; Python numbers and lists become float32."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)
    arr = np.asarray(data)
    if arr.dtype.kind in "iuf":
        return arr.astype(_FLOAT_DEFAULT)
    return arr


class Tensor:
    """A NumPy array with reverse-mode autograd.

    ``data`` is the ndarray (float32 unless given another float dtype), ``grad``
    an ndarray of the same shape or ``None``.
    """

    __slots__ = ("data", "grad", "requires_grad", "_backward", "_parents", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data = _to_array(data, dtype)
        self.grad = None
        self._backward = None
        self._parents = ()
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ---- construction helpers -------------------------------------------------
    @classmethod
    def _node(cls, data: np.ndarray, parents: tuple, backward_fn: Callable) -> Tensor:
        """Result of an op: a graph node if grad mode is on and an input needs grad
        (``backward_fn`` follows the node contract in corenn.autograd)."""
        out = cls.__new__(cls)
        out.data = data
        out.grad = None
        if autograd._state.enabled and any(p.requires_grad for p in parents):
            out.requires_grad = True
            out._parents = parents
            out._backward = backward_fn
        else:
            out.requires_grad = False
            out._parents = ()
            out._backward = None
        return out

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        return Tensor(self.data)

    def backward(self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
                 *, grad: Any = None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (ndarrays); ``gradient`` (or ``grad=``)
        seeds a non-scalar tensor.  ``.grad`` stays an ndarray, so ``create_graph=True`` is refused: use
        ``corenn.autograd.grad(..., create_graph=True)``, which returns the gradients as graph Tensors."""
        if create_graph:
            raise NotImplementedError(
                "backward(create_graph=True): corenn keeps .grad as ndarrays, outside any graph; use "
                "corenn.autograd.grad(outputs, inputs, create_graph=True) for differentiable gradients")
        grad = gradient if gradient is not None else grad
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad "
                               "(was it computed under no_grad, or from constants only?)")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs, "
                                   f"got shape {self.data.shape}; pass gradient=")
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.data.dtype)
            if grad.shape != self.data.shape:
                raise ValueError(f"grad shape {grad.shape} does not match tensor shape {self.data.shape}")
        autograd.backward(self, grad, bool(retain_graph))

    def zero_grad(self) -> None:
        self.grad = None

    # ---- array-like -------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self._backward is None

    def numel(self) -> int:
        return self.data.size

    def dim(self) -> int:
        return self.data.ndim

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> Any:
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"tensor({np.array2string(self.data, separator=', ', precision=4)}{grad})"

    def float(self) -> Tensor:
        return ops.astype(self, np.float32)

    def double(self) -> Tensor:
        return ops.astype(self, np.float64)

    def long(self) -> Tensor:
        return Tensor(self.data.astype(np.int64))

    def int(self) -> Tensor:
        return Tensor(self.data.astype(np.int32))

    def bool(self) -> Tensor:
        return Tensor(self.data.astype(bool))

    def cpu(self) -> Tensor:
        """Itself: corenn runs on the CPU (torch code's ``.cpu()`` ports unchanged)."""
        return self

    def to(self, *args: Any, dtype: Any = None, device: Any = None) -> Tensor:
        """``to(dtype)``, ``to("cpu")``, ``to(device, dtype)``, ``to(other_tensor)``: a device is
        accepted when it is the CPU; a dtype casts (differentiably between float dtypes)."""
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, str) or type(arg).__name__ == "device":
                device = arg
            else:
                dtype = arg
        if device is not None and str(device).split(":")[0] not in ("cpu", "auto"):
            raise ValueError(f"corenn runs on the CPU only, got device {device!r}")
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return self
        return ops.astype(self, dtype)

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError("the truth value of a tensor with more than one element is ambiguous")
        return bool(self.data)

    # ---- operators --------------------------------------------------------------
    def __add__(self, o: Any) -> Tensor: return ops.add(self, o)
    def __radd__(self, o: Any) -> Tensor: return ops.add(self, o)
    def __sub__(self, o: Any) -> Tensor: return ops.sub(self, o)
    def __rsub__(self, o: Any) -> Tensor: return ops.rsub(self, o)
    def __mul__(self, o: Any) -> Tensor: return ops.mul(self, o)
    def __rmul__(self, o: Any) -> Tensor: return ops.mul(self, o)
    def __truediv__(self, o: Any) -> Tensor: return ops.div(self, o)
    def __rtruediv__(self, o: Any) -> Tensor: return ops.rdiv(self, o)
    def __neg__(self) -> Tensor: return ops.neg(self)
    def __pow__(self, o: Any) -> Tensor: return ops.pow(self, o)
    def __rpow__(self, o: Any) -> Tensor: return ops.rpow(self, o)
    def __matmul__(self, o: Any) -> Tensor: return ops.matmul(self, o)
    def __rmatmul__(self, o: Any) -> Tensor: return ops.matmul(o, self)
    def __getitem__(self, idx: Any) -> Tensor: return ops.getitem(self, idx)
    def __abs__(self) -> Tensor: return ops.abs(self)

    # comparisons return plain boolean arrays wrapped as constant tensors
    def __lt__(self, o: Any) -> Tensor: return Tensor(self.data < _raw(o))
    def __le__(self, o: Any) -> Tensor: return Tensor(self.data <= _raw(o))
    def __gt__(self, o: Any) -> Tensor: return Tensor(self.data > _raw(o))
    def __ge__(self, o: Any) -> Tensor: return Tensor(self.data >= _raw(o))
    def __eq__(self, o: Any) -> Tensor: return Tensor(self.data == _raw(o))
    def __ne__(self, o: Any) -> Tensor: return Tensor(self.data != _raw(o))

    @property
    def T(self) -> Tensor:
        return ops.transpose(self)

    @property
    def mT(self) -> Tensor:
        return ops.swapaxes(self, -1, -2)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Create a new leaf tensor (copies ``data``)."""
    arr = np.array(_to_array(data, dtype), copy=True)
    return Tensor(arr, requires_grad=requires_grad)


# autograd (grad mode, the backward pass) and ops (behind the operators above and the methods
# installed below) import Tensor from this module, so they are imported after the class.
from . import autograd, ops  # noqa: E402
from .ops.methods import install as _install_methods  # noqa: E402

_install_methods(Tensor)  # x.sum(), x.relu(), x.view(...) ...
