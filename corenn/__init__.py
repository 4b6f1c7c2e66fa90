"""corenn: a compact NumPy autograd engine with PyTorch-shaped names."""
__version__ = "0.1.0"

from .tensor import Tensor, tensor  # noqa: F401  (loads autograd and ops: see the end of tensor.py)
from .autograd import Function, no_grad, enable_grad, is_grad_enabled  # noqa: F401
from . import autograd, ops  # noqa: F401
from .ops import (add, sub, mul, div, neg, pow, exp, log, sqrt, abs, maximum, minimum, clip,  # noqa: F401
                  where, sum, mean, max, min, var, std, logsumexp, reshape, transpose, permute,
                  expand, concatenate, stack, split, pad, flatten, squeeze, unsqueeze, matmul,
                  relu, sigmoid, tanh, softmax, log_softmax)
from .creation import (zeros, ones, zeros_like, ones_like, randn, rand, arange, full, from_numpy,  # noqa: F401
                       manual_seed, as_tensor)
from .gradcheck import gradcheck  # noqa: F401
from .threads import set_num_threads, get_num_threads  # noqa: F401
from . import nn, utils, datasets, models, optim  # noqa: F401
from .serialization import save, load, CheckpointError  # noqa: F401

cat = concatenate
clamp = clip
