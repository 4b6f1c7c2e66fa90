"""corenn: a compact NumPy autograd engine with PyTorch-shaped names."""
__version__ = "0.1.0"

import numpy as np

# Tensor first: importing it loads autograd and ops (see the end of tensor.py).
from .tensor import Tensor, tensor

# isort: split
from . import autograd, datasets, models, nn, ops, optim, utils
from .autograd import Function, enable_grad, is_grad_enabled, no_grad
from .creation import (
    arange,
    as_tensor,
    cat,
    concatenate,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    stack,
    zeros,
    zeros_like,
)
from .gradcheck import gradcheck, gradgradcheck
from .ops import (
    abs,
    add,
    clip,
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

clamp = clip
# dtype names as torch spells them (torch.float32 -> corenn.float32); corenn dtypes are NumPy dtypes
float32, float64, float16 = np.float32, np.float64, np.float16
int64, int32, uint8, bool_ = np.int64, np.int32, np.uint8, np.bool_
float, double, long = np.float32, np.float64, np.int64

__all__ = [
    "Tensor", "tensor", "Function", "no_grad", "enable_grad", "is_grad_enabled",
    "autograd", "ops", "nn", "optim", "utils", "datasets", "models",
    "zeros", "ones", "zeros_like", "ones_like", "randn", "rand", "arange", "full", "from_numpy", "manual_seed",
    "as_tensor", "gradcheck", "gradgradcheck", "set_num_threads", "get_num_threads", "save", "load", "CheckpointError",
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "maximum", "minimum", "clip", "clamp",
    "where", "sum", "mean", "max", "min", "var", "std", "logsumexp", "reshape", "transpose", "permute", "expand",
    "concatenate", "cat", "stack", "split", "pad", "flatten", "squeeze", "unsqueeze", "matmul", "relu", "sigmoid",
    "tanh", "softmax", "log_softmax", "full_like", "empty", "empty_like", "randn_like", "rand_like", "linspace",
    "eye", "float32", "float64", "float16", "int64", "int32", "uint8", "bool_",
]  # float / double / long stay out of __all__: `from corenn import *` must not shadow the builtin float
