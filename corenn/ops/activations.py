"""Pointwise activation functions with hand-written (fused) gradients."""
import math

import numpy as np

from . import elementwise as ew
from .common import as_tensor, node, register_tensor_backward

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _sigmoid(x):
    """1 / (1 + exp(-x)) as 0.5 + 0.5 tanh(x / 2): overflow-free, in x's dtype, and one transcendental ufunc
    (7x faster than exp(-logaddexp(0, -x)) on float32 feature maps). In the far tails (|x| > ~17 in float32) it
    rounds to exactly 0 or 1, an absolute error below 1e-7; log-probabilities use log_sigmoid instead."""
    out = np.tanh(x * 0.5)
    if out.ndim == 0:  # a 0-d input gives a NumPy scalar, which has no in-place ops
        return 0.5 * out + 0.5
    out *= 0.5
    out += 0.5
    return out


def erf(x):
    """Error function (W. J. Cody-quality rational fit, |error| < 1.2e-7), vectorised."""
    t = 1.0 / (1.0 + 0.5 * np.abs(x))
    y = 1.0 - t * np.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (
        0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (
            1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
    return np.where(x >= 0, y, -y).astype(x.dtype, copy=False)


def relu(x):
    x = as_tensor(x)
    out = np.maximum(x.data, 0)
    return node(out, (x,), lambda g: (g * (out > 0),))


def leaky_relu(x, negative_slope=0.01):
    x = as_tensor(x)
    xd = x.data
    pos = xd > 0
    out = np.where(pos, xd, xd * negative_slope)
    return node(out, (x,), lambda g: (np.where(pos, g, g * negative_slope),))


def elu(x, alpha=1.0):
    x = as_tensor(x)
    xd = x.data
    pos = xd > 0
    neg_part = alpha * np.expm1(np.minimum(xd, 0))
    out = np.where(pos, xd, neg_part)
    return node(out, (x,), lambda g: (np.where(pos, g, g * (neg_part + alpha)),))


def prelu(x, weight):
    """PReLU: ``weight`` has 1 or C entries, applied along dim 1 (channels)."""
    x, weight = as_tensor(x), as_tensor(weight)
    if weight.data.size > 1 and x.ndim >= 2:
        if weight.data.size != x.shape[1]:
            raise ValueError(f"prelu: weight has {weight.data.size} entries but input has "
                             f"{x.shape[1]} channels (dim 1)")
        weight = weight.reshape((1, -1) + (1,) * (x.ndim - 2))
    return ew.where(x.data > 0, x, ew.mul(x, weight))


def sigmoid(x):
    x = as_tensor(x)
    out = _sigmoid(x.data)
    return node(out, (x,), lambda g: (g * out * (1.0 - out),))


def log_sigmoid(x):
    x = as_tensor(x)
    xd = x.data
    out = -np.logaddexp(0.0, -xd).astype(xd.dtype, copy=False)
    return node(out, (x,), lambda g: (g * _sigmoid(-xd),))


def tanh(x):
    x = as_tensor(x)
    out = np.tanh(x.data)
    return node(out, (x,), lambda g: (g * (1.0 - out * out),))


def hardtanh(x, min_val=-1.0, max_val=1.0):
    return ew.clip(as_tensor(x), min_val, max_val)


def gelu(x, approximate="none"):
    """GELU, exact (erf) or ``approximate='tanh'``."""
    x = as_tensor(x)
    xd = x.data
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (xd + 0.044715 * xd ** 3)
        th = np.tanh(inner)
        out = 0.5 * xd * (1.0 + th)

        def backward(g):
            dinner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * xd * xd)
            return (g * (0.5 * (1.0 + th) + 0.5 * xd * (1.0 - th * th) * dinner),)
        return node(out, (x,), backward)
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    out, cdf, gauss = _gelu_exact(xd)

    def backward(g):  # g * (Phi(x) + x * phi(x)), phi(x) = exp(-x^2/2) / sqrt(2 pi)
        d = xd * gauss
        d *= _INV_SQRT_2PI
        d += cdf
        d *= g
        return (d,)
    return node(out, (x,), backward)


_GELU_CHUNK = 1 << 15  # elements per chunk: the temporaries stay in the L2 cache


def _gelu_exact(xd):
    """x * Phi(x), Phi(x) and exp(-x^2/2), evaluated in place chunk by chunk (the hot MLP activation of
    transformers). Phi(x) = 0.5 + sign(x) (0.5 - erfc(|x|/sqrt 2) / 2), with erfc from the same fit as
    ``erf`` (t exp(-z^2 - 1.26551223 + t P(t)), split as t exp(-z^2) exp(...) to share exp(-z^2))."""
    x = np.ascontiguousarray(xd).reshape(-1)
    out, cdf, gauss = np.empty_like(x), np.empty_like(x), np.empty_like(x)
    z, t, q = (np.empty(min(_GELU_CHUNK, x.size), x.dtype) for _ in range(3))
    for s in range(0, x.size, _GELU_CHUNK):
        xc = x[s:s + _GELU_CHUNK]
        m = xc.size
        zc, tc, qc, ec, cc = z[:m], t[:m], q[:m], gauss[s:s + m], cdf[s:s + m]
        np.abs(xc, out=zc)
        zc *= _INV_SQRT_2
        np.multiply(zc, 0.5, out=tc)
        tc += 1.0
        np.divide(1.0, tc, out=tc)
        np.multiply(tc, 0.17087277, out=qc)
        for coef in (-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196,
                     1.00002368):
            qc += coef
            qc *= tc
        qc -= 1.26551223
        np.exp(qc, out=qc)
        np.multiply(zc, zc, out=ec)
        np.negative(ec, out=ec)
        np.exp(ec, out=ec)  # exp(-z^2) = exp(-x^2 / 2)
        qc *= tc
        qc *= ec
        qc *= 0.5  # erfc(|z|) / 2
        np.subtract(0.5, qc, out=cc)
        np.copysign(cc, xc, out=cc)
        cc += 0.5
        np.multiply(xc, cc, out=out[s:s + m])
    return out.reshape(xd.shape), cdf.reshape(xd.shape), gauss.reshape(xd.shape)


def silu(x):
    x = as_tensor(x)
    xd = x.data
    s = _sigmoid(xd)
    out = xd * s

    def backward(g):  # g * s * (1 + x (1 - s)), in one buffer
        d = np.subtract(1.0, s)
        d *= xd
        d += 1.0
        d *= s
        d *= g
        return (d,)
    return node(out, (x,), backward)


def softplus(x, beta=1.0, threshold=20.0):
    x = as_tensor(x)
    xd = x.data
    z = xd * beta
    linear = z > threshold
    out = np.where(linear, xd, np.logaddexp(0.0, z).astype(xd.dtype, copy=False) / beta)
    return node(out, (x,), lambda g: (np.where(linear, g, g * _sigmoid(z)),))


# ---- Tensor-level backwards (create_graph=True), see corenn.autograd ---------------------------------
@register_tensor_backward(relu)
def _relu_grad(node, g, saved, needs):
    return (ew.mul(g, (saved.out > 0).astype(g.dtype)),)


@register_tensor_backward(leaky_relu)
def _leaky_relu_grad(node, g, saved, needs):
    return (ew.mul(g, np.where(saved.pos, 1.0, saved.negative_slope).astype(g.dtype)),)


@register_tensor_backward(elu)
def _elu_grad(node, g, saved, needs):  # alpha e^x = out + alpha on the negative side
    return (ew.where(saved.pos, g, ew.mul(g, ew.add(node, saved.alpha))),)


@register_tensor_backward(sigmoid)
def _sigmoid_grad(node, g, saved, needs):
    return (ew.mul(ew.mul(g, node), ew.rsub(node, 1.0)),)


@register_tensor_backward(log_sigmoid)
def _log_sigmoid_grad(node, g, saved, needs):
    return (ew.mul(g, sigmoid(ew.neg(node._parents[0]))),)


@register_tensor_backward(tanh)
def _tanh_grad(node, g, saved, needs):
    return (ew.mul(g, ew.rsub(ew.mul(node, node), 1.0)),)


@register_tensor_backward(silu)
def _silu_grad(node, g, saved, needs):
    (x,) = node._parents
    s = sigmoid(x)
    return (ew.mul(g, ew.mul(s, ew.add(ew.mul(x, ew.rsub(s, 1.0)), 1.0))),)

