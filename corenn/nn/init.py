"""In-place parameter initialisers (PyTorch's names and formulas)."""
import math

import numpy as np

from ..creation import generator


def _arr(t):
    return t.data if hasattr(t, "data") else t


def calculate_gain(nonlinearity, param=None):
    gains = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "conv1d": 1.0, "conv2d": 1.0,
             "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity not in gains:
        raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")
    return gains[nonlinearity]


def _fans(a):
    if a.ndim < 2:
        raise ValueError(f"fan in/out need a tensor with at least 2 dims, got shape {a.shape}")
    receptive = int(np.prod(a.shape[2:])) if a.ndim > 2 else 1
    return a.shape[1] * receptive, a.shape[0] * receptive


def _fill(t, values):
    a = _arr(t)
    a[...] = values
    return t


def zeros_(t):
    _arr(t).fill(0)
    return t


def ones_(t):
    _arr(t).fill(1)
    return t


def constant_(t, val):
    _arr(t).fill(val)
    return t


def uniform_(t, a=0.0, b=1.0):
    return _fill(t, generator().uniform(a, b, _arr(t).shape))


def normal_(t, mean=0.0, std=1.0):
    return _fill(t, generator().normal(mean, std, _arr(t).shape))


def xavier_uniform_(t, gain=1.0):
    fan_in, fan_out = _fans(_arr(t))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound)


def xavier_normal_(t, gain=1.0):
    fan_in, fan_out = _fans(_arr(t))
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(t, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    fan_in, fan_out = _fans(_arr(t))
    fan = fan_in if mode == "fan_in" else fan_out
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(t, -bound, bound)


def kaiming_normal_(t, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    fan_in, fan_out = _fans(_arr(t))
    fan = fan_in if mode == "fan_in" else fan_out
    return normal_(t, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))


def orthogonal_(t, gain=1.0):
    """Fill with a (semi-)orthogonal matrix scaled by ``gain`` (QR of a Gaussian)."""
    a = _arr(t)
    if a.ndim < 2:
        raise ValueError(f"orthogonal_ needs a tensor with at least 2 dims, got shape {a.shape}")
    rows, cols = a.shape[0], a.size // a.shape[0]
    flat = generator().standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(t, gain * q.reshape(a.shape))
