"""Functional forms (``import corenn.nn.functional as F``)."""
from .. import ops
from ..creation import generator
from ..ops import (
    adaptive_avg_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    elu,
    fused_linear,
    gelu,
    hardtanh,
    interpolate,
    leaky_relu,
    linear,
    log_sigmoid,
    log_softmax,
    logsumexp,
    max_pool2d,
    pad,
    prelu,
    relu,
    scaled_dot_product_attention,
    sigmoid,
    silu,
    softmax,
    softplus,
    take_min,
    tanh,
    upsample,
)
from ..ops.recurrent import gru_layer, lstm_layer, rnn_layer
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)

__all__ = [
    # activations and other ops, as in corenn.ops
    "elu", "gelu", "hardtanh", "leaky_relu", "log_sigmoid", "log_softmax", "logsumexp", "prelu", "relu", "sigmoid",
    "silu", "softmax", "softplus", "tanh", "linear", "fused_linear", "take_min", "pad",
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
    "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "interpolate", "upsample",
    "scaled_dot_product_attention",
    "rnn_layer", "lstm_layer", "gru_layer",
    # losses
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss", "l1_loss", "mse_loss",
    "nll_loss", "smooth_l1_loss",
    # defined here
    "dropout", "layer_norm", "one_hot",
]


def dropout(x, p=0.5, training=True):
    if not training or p == 0.0:
        return x
    keep = generator().random(x.shape) >= p
    return ops.mul(x, keep.astype(x.dtype) * (1.0 / (1.0 - p)))


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    k = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
    xhat, _, _ = ops.normalize(x, tuple(range(x.ndim - k, x.ndim)), eps)
    if weight is not None:
        xhat = xhat * weight
    if bias is not None:
        xhat = xhat + bias
    return xhat


def one_hot(indices, num_classes):
    from ..tensor import Tensor
    from ..utils.tensor_utils import one_hot as _one_hot
    return Tensor(_one_hot(getattr(indices, "data", indices), num_classes))
