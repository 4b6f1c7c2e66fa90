"""Differentiable ops on Tensors. Every op here is gradient-checked in tests/corenn."""
from .activations import elu, erf, gelu, hardtanh, leaky_relu, log_sigmoid, prelu, relu, sigmoid, silu, softplus, tanh
from .attention import causal_mask, merge_heads, scaled_dot_product_attention, split_heads
from .conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from .elementwise import (
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
from .fused import cross_entropy, normalize
from .fused_linear import FUSED_ACTIVATIONS, fused_linear, take_min
from .linalg import linear, matmul
from .movement import (
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
from .pooling import adaptive_avg_pool2d, avg_pool2d, interpolate, max_pool2d, upsample
from .recurrent import gru_layer, lstm_layer, rnn_layer
from .reduce import log_softmax, logsumexp, max, mean, min, softmax, std, sum, var

__all__ = [
    # activations
    "elu", "erf", "gelu", "hardtanh", "leaky_relu", "log_sigmoid", "prelu", "relu", "sigmoid", "silu", "softplus",
    "tanh",
    # attention (one fused node; splitting packed projections into heads)
    "causal_mask", "merge_heads", "scaled_dot_product_attention", "split_heads",
    # convolutions
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
    # elementwise (rdiv, rpow, rsub: reflected operators for Tensor.__rtruediv__ etc.)
    "abs", "add", "astype", "clip", "div", "exp", "log", "maximum", "minimum", "mul", "neg", "pow", "rdiv", "rpow",
    "rsub", "sqrt", "sub", "where",
    # fused kernels
    "cross_entropy", "normalize", "FUSED_ACTIVATIONS", "fused_linear", "take_min",
    # linear algebra
    "linear", "matmul",
    # movement (getitem: Tensor.__getitem__)
    "chunk", "concatenate", "expand", "flatten", "getitem", "pad", "permute", "reshape", "split", "squeeze", "stack",
    "swapaxes", "transpose", "unsqueeze",
    # pooling and resampling
    "adaptive_avg_pool2d", "avg_pool2d", "interpolate", "max_pool2d", "upsample",
    # recurrent layers (one fused node per layer and direction)
    "gru_layer", "lstm_layer", "rnn_layer",
    # reductions
    "log_softmax", "logsumexp", "max", "mean", "min", "softmax", "std", "sum", "var",
]
