"""Install op methods on Tensor (``x.sum()``, ``x.relu()``, ``x.view(...)`` ...)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from . import activations as act
from . import elementwise as ew
from . import linalg
from . import movement as mv
from . import reduce as rd

if TYPE_CHECKING:
    from ..tensor import Tensor

Axis = int | Sequence[int] | None


def _axis(axis: Axis, dim: Axis) -> Axis:
    return dim if axis is None else axis


def install(cls: type) -> None:
    def sum(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
            keepdim: bool | None = None) -> Tensor:
        return rd.sum(self, _axis(axis, dim), keepdims if keepdim is None else keepdim)

    def mean(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
             keepdim: bool | None = None) -> Tensor:
        return rd.mean(self, _axis(axis, dim), keepdims if keepdim is None else keepdim)

    def max(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
            keepdim: bool | None = None) -> Tensor:
        return rd.max(self, _axis(axis, dim), keepdims if keepdim is None else keepdim)

    def min(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
            keepdim: bool | None = None) -> Tensor:
        return rd.min(self, _axis(axis, dim), keepdims if keepdim is None else keepdim)

    def var(self, axis: Axis = None, correction: int = 1, keepdims: bool = False, *, dim: Axis = None,
            keepdim: bool | None = None, unbiased: bool | None = None) -> Tensor:
        if unbiased is not None:
            correction = int(unbiased)
        return rd.var(self, _axis(axis, dim), correction, keepdims if keepdim is None else keepdim)

    def std(self, axis: Axis = None, correction: int = 1, keepdims: bool = False, *, dim: Axis = None,
            keepdim: bool | None = None, unbiased: bool | None = None) -> Tensor:
        if unbiased is not None:
            correction = int(unbiased)
        return rd.std(self, _axis(axis, dim), correction, keepdims if keepdim is None else keepdim)

    def logsumexp(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
                  keepdim: bool | None = None) -> Tensor:
        return rd.logsumexp(self, _axis(axis, dim), keepdims if keepdim is None else keepdim)

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        return rd.softmax(self, _axis(dim, axis))

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        return rd.log_softmax(self, _axis(dim, axis))

    def argmax(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None) -> Tensor:
        return cls(np.argmax(self.data, axis=_axis(axis, dim), keepdims=keepdims))

    def argmin(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None) -> Tensor:
        return cls(np.argmin(self.data, axis=_axis(axis, dim), keepdims=keepdims))

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        return mv.reshape(self, *shape)

    def transpose(self, dim0: int | None = None, dim1: int | None = None) -> Tensor:
        return mv.transpose(self, dim0, dim1)

    def permute(self, *dims: int | Sequence[int]) -> Tensor:
        return mv.permute(self, *dims)

    def expand(self, *sizes: int | Sequence[int]) -> Tensor:
        return mv.expand(self, *sizes)

    def split(self, split_size_or_sections: int | Sequence[int], axis: int = 0, *,
              dim: int | None = None) -> tuple[Tensor, ...]:
        return mv.split(self, split_size_or_sections, _axis(dim, axis))

    def chunk(self, chunks: int, axis: int = 0, *, dim: int | None = None) -> tuple[Tensor, ...]:
        return mv.chunk(self, chunks, _axis(dim, axis))

    def squeeze(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        return mv.squeeze(self, _axis(axis, dim))

    def unsqueeze(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        return mv.unsqueeze(self, _axis(axis, dim))

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        return ew.clip(self, min, max)

    simple = dict(
        exp=ew.exp, log=ew.log, sqrt=ew.sqrt, abs=ew.abs, relu=act.relu, sigmoid=act.sigmoid,
        tanh=act.tanh, flatten=mv.flatten, pow=ew.pow, matmul=linalg.matmul, maximum=ew.maximum,
        minimum=ew.minimum, swapaxes=mv.swapaxes, pad=mv.pad, astype=ew.astype,
        gelu=act.gelu, silu=act.silu, softplus=act.softplus, log_sigmoid=act.log_sigmoid)
    for name, fn in simple.items():
        setattr(cls, name, fn)
    for fn in (sum, mean, max, min, var, std, logsumexp, softmax, log_softmax, argmax, argmin,
               reshape, transpose, permute, expand, split, chunk, squeeze, unsqueeze, clip):
        setattr(cls, fn.__name__, fn)
    cls.view = reshape
    cls.clamp = clip
    cls.neg = ew.neg
