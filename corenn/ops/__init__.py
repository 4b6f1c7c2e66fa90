"""Differentiable ops on Tensors. Every op here is gradient-checked in tests/corenn."""
from .elementwise import (add, sub, rsub, neg, mul, div, rdiv, pow, rpow, exp, log, sqrt,  # noqa: F401
                          abs, maximum, minimum, where, clip, astype)
from .activations import (relu, leaky_relu, elu, prelu, sigmoid, log_sigmoid, tanh,  # noqa: F401
                          hardtanh, gelu, silu, softplus, erf)
from .reduce import sum, mean, max, min, var, std, logsumexp, softmax, log_softmax  # noqa: F401
from .movement import (reshape, flatten, squeeze, unsqueeze, permute, transpose, swapaxes,  # noqa: F401
                       expand, getitem, concatenate, stack, split, chunk, pad)
from .linalg import matmul, linear  # noqa: F401
from .fused import cross_entropy, normalize  # noqa: F401
from .fused_linear import FUSED_ACTIVATIONS, fused_linear, take_min  # noqa: F401
