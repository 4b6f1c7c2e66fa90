"""corenn: a compact NumPy autograd engine with PyTorch-shaped names."""
__version__ = "0.1.0"

# Tensor first: importing it loads autograd and ops (see the end of tensor.py).
from .tensor import Tensor, tensor

# isort: split
from . import autograd, datasets, models, nn, ops, optim, utils
from .autograd import Function, enable_grad, is_grad_enabled, no_grad
from .creation import arange, as_tensor, from_numpy, full, manual_seed, ones, ones_like, rand, randn, zeros, zeros_like
from .gradcheck import gradcheck
from .ops import (
    abs,
    add,
    clip,
    concatenate,
    div,
    exp,
    expand,
    flatten,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    pad,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    softmax,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sub,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
from .serialization import CheckpointError, load, save
from .threads import get_num_threads, set_num_threads

cat = concatenate
clamp = clip

__all__ = [
    "Tensor", "tensor", "Function", "no_grad", "enable_grad", "is_grad_enabled",
    "autograd", "ops", "nn", "optim", "utils", "datasets", "models",
    "zeros", "ones", "zeros_like", "ones_like", "randn", "rand", "arange", "full", "from_numpy", "manual_seed",
    "as_tensor", "gradcheck", "set_num_threads", "get_num_threads", "save", "load", "CheckpointError",
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "maximum", "minimum", "clip", "clamp",
    "where", "sum", "mean", "max", "min", "var", "std", "logsumexp", "reshape", "transpose", "permute", "expand",
    "concatenate", "cat", "stack", "split", "pad", "flatten", "squeeze", "unsqueeze", "matmul", "relu", "sigmoid",
    "tanh", "softmax", "log_softmax",
]
