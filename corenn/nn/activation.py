"""Module forms of the activation functions."""
import numpy as np

from .. import ops
from .module import Module, Parameter


def _simple(name, fn, doc):
    def forward(self, x):
        return fn(x)
    return type(name, (Module,), {"forward": forward, "__doc__": doc})


ReLU = _simple("ReLU", ops.relu, "max(x, 0)")
Sigmoid = _simple("Sigmoid", ops.sigmoid, "1 / (1 + exp(-x))")
LogSigmoid = _simple("LogSigmoid", ops.log_sigmoid, "log(sigmoid(x))")
Tanh = _simple("Tanh", ops.tanh, "tanh(x)")
SiLU = _simple("SiLU", ops.silu, "x * sigmoid(x)")


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return ops.leaky_relu(x, self.negative_slope)


class ELU(Module):
    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        return ops.elu(x, self.alpha)


class PReLU(Module):
    """Leaky ReLU with a learned slope (one, or one per channel on dim 1)."""

    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.weight = Parameter(np.full(num_parameters, init, dtype=np.float32))

    def forward(self, x):
        return ops.prelu(x, self.weight)


class Hardtanh(Module):
    def __init__(self, min_val=-1.0, max_val=1.0):
        super().__init__()
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x):
        return ops.hardtanh(x, self.min_val, self.max_val)


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return ops.gelu(x, self.approximate)


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return ops.softplus(x, self.beta, self.threshold)


class Softmax(Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return ops.softmax(x, self.dim)


class LogSoftmax(Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return ops.log_softmax(x, self.dim)
