"""Functional forms (``import corenn.nn.functional as F``)."""
from ..ops import (relu, leaky_relu, elu, prelu, sigmoid, log_sigmoid, tanh, hardtanh,  # noqa: F401
                   gelu, silu, softplus, softmax, log_softmax, linear, logsumexp, pad,
                   fused_linear, take_min)
from .losses import (mse_loss, l1_loss, huber_loss, smooth_l1_loss, cross_entropy, nll_loss,  # noqa: F401
                     binary_cross_entropy, binary_cross_entropy_with_logits)
from .. import ops
from ..creation import generator


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
    from ..utils.tensor_utils import one_hot as _one_hot
    from ..tensor import Tensor
    return Tensor(_one_hot(getattr(indices, "data", indices), num_classes))
