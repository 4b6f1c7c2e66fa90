"""Install op methods on Tensor (``x.sum()``, ``x.relu()``, ``x.view(...)`` ...)."""
import numpy as np

from . import activations as act
from . import elementwise as ew
from . import linalg, movement as mv, reduce as rd


def _axis(axis, dim):
    return dim if axis is None else axis


def install(cls):
    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return rd.sum(self, _axis(axis, dim), keepdims if keepdim is None else keepdim)

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return rd.mean(self, _axis(axis, dim), keepdims if keepdim is None else keepdim)

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return rd.max(self, _axis(axis, dim), keepdims if keepdim is None else keepdim)

    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return rd.min(self, _axis(axis, dim), keepdims if keepdim is None else keepdim)

    def var(self, axis=None, correction=1, keepdims=False, *, dim=None, keepdim=None, unbiased=None):
        if unbiased is not None:
            correction = int(unbiased)
        return rd.var(self, _axis(axis, dim), correction, keepdims if keepdim is None else keepdim)

    def std(self, axis=None, correction=1, keepdims=False, *, dim=None, keepdim=None, unbiased=None):
        if unbiased is not None:
            correction = int(unbiased)
        return rd.std(self, _axis(axis, dim), correction, keepdims if keepdim is None else keepdim)

    def logsumexp(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return rd.logsumexp(self, _axis(axis, dim), keepdims if keepdim is None else keepdim)

    def softmax(self, axis=-1, *, dim=None):
        return rd.softmax(self, _axis(dim, axis))

    def log_softmax(self, axis=-1, *, dim=None):
        return rd.log_softmax(self, _axis(dim, axis))

    def argmax(self, axis=None, keepdims=False, *, dim=None):
        return cls(np.argmax(self.data, axis=_axis(axis, dim), keepdims=keepdims))

    def argmin(self, axis=None, keepdims=False, *, dim=None):
        return cls(np.argmin(self.data, axis=_axis(axis, dim), keepdims=keepdims))

    def reshape(self, *shape):
        return mv.reshape(self, *shape)

    def transpose(self, dim0=None, dim1=None):
        return mv.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return mv.permute(self, *dims)

    def expand(self, *sizes):
        return mv.expand(self, *sizes)

    def split(self, split_size_or_sections, axis=0, *, dim=None):
        return mv.split(self, split_size_or_sections, _axis(dim, axis))

    def chunk(self, chunks, axis=0, *, dim=None):
        return mv.chunk(self, chunks, _axis(dim, axis))

    def squeeze(self, axis=None, *, dim=None):
        return mv.squeeze(self, _axis(axis, dim))

    def unsqueeze(self, axis=None, *, dim=None):
        return mv.unsqueeze(self, _axis(axis, dim))

    def clip(self, min=None, max=None):
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
