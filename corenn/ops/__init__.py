"""Differentiable ops on Tensors. Every op here is gradient-checked in tests/corenn."""
from .activations import elu, erf, gelu, hardtanh, leaky_relu, log_sigmoid, prelu, relu, sigmoid, silu, softplus, tanh  # noqa: F401
from .elementwise import (  # noqa: F401
                          abs,
                          add,
                          astype,
                          clip,
                          div,
                          exp,
                          log,
                          maximum,
                          minimum,
                          mul,
                          neg,
                          pow,
                          rdiv,
                          rpow,
                          rsub,
                          sqrt,
                          sub,
                          where,
)
from .fused import cross_entropy, normalize  # noqa: F401
from .fused_linear import FUSED_ACTIVATIONS, fused_linear, take_min  # noqa: F401
from .linalg import linear, matmul  # noqa: F401
from .movement import (  # noqa: F401
                          chunk,
                          concatenate,
                          expand,
                          flatten,
                          getitem,
                          pad,
                          permute,
                          reshape,
                          split,
                          squeeze,
                          stack,
                          swapaxes,
                          transpose,
                          unsqueeze,
)
from .reduce import log_softmax, logsumexp, max, mean, min, softmax, std, sum, var  # noqa: F401
