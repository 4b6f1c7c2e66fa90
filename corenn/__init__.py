"""corenn: a compact NumPy autograd engine with PyTorch-shaped names."""
__version__ = "0.1.0"

from . import autograd, datasets, models, nn, ops, optim, utils  # noqa: F401  # noqa: F401
from .autograd import Function, enable_grad, is_grad_enabled, no_grad  # noqa: F401
from .creation import arange, as_tensor, from_numpy, full, manual_seed, ones, ones_like, rand, randn, zeros, zeros_like  # noqa: F401
from .gradcheck import gradcheck  # noqa: F401
from .ops import (  # noqa: F401
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
from .serialization import CheckpointError, load, save  # noqa: F401
from .tensor import Tensor, tensor  # noqa: F401  (loads autograd and ops: see the end of tensor.py)
from .threads import get_num_threads, set_num_threads  # noqa: F401

cat = concatenate
clamp = clip
