"""Fused linear layers and MLPs for the off-policy hot loop, including ensembles (twin critics).

`fused_linear` is one autograd node for act(x @ W + b): one matmul, the bias added in place and
the activation applied in place, with a hand-written backward that skips the gradients nobody
needs (no dx for observations, no dW when the critic is frozen for the actor loss).

An ensemble stacks E networks' weights as (E, in, out): E critics are evaluated with one
batched matmul per layer instead of E separate forward passes. Shapes:
    x (B, in) shared by all members, or (E, B, in)  ->  (E, B, out)
    without an ensemble (n_members=None): x (B, in) -> (B, out)
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

import corenn
from corenn import nn
from corenn.creation import generator
from corenn.nn.functional import fused_linear, take_min
from corenn.ops import FUSED_ACTIVATIONS

from .value_functions import get_activation

__all__ = ["fused_linear", "ensemble_min", "FusedLinear", "FusedMLP", "FUSED_ACTIVATIONS"]

ensemble_min = take_min


class FusedLinear(nn.Module):
    """Linear layer with weight (in, out) [or (E, in, out)] and PyTorch's default uniform init."""

    def __init__(self, in_features: int, out_features: int, n_members: int | None = None,
                 activation: str | None = None):
        super().__init__()
        if activation not in FUSED_ACTIVATIONS:
            raise ValueError(f"activation must be one of {FUSED_ACTIVATIONS}, got {activation!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.n_members, self.activation = n_members, activation
        lead = () if n_members is None else (int(n_members),)
        bound = 1.0 / math.sqrt(self.in_features) if self.in_features else 0.0
        rng = generator()
        w = rng.uniform(-bound, bound, lead + (self.in_features, self.out_features))
        b = rng.uniform(-bound, bound, lead + ((1,) if lead else ()) + (self.out_features,))
        self.weight = nn.Parameter(w.astype(np.float32))
        self.bias = nn.Parameter(b.astype(np.float32))

    def forward(self, x):
        return fused_linear(x, self.weight, self.bias, self.activation)

    def extra_repr(self) -> str:
        members = "" if self.n_members is None else f", n_members={self.n_members}"
        return f"in={self.in_features}, out={self.out_features}{members}, activation={self.activation}"


class FusedMLP(nn.Module):
    """in -> net_arch (activation after each hidden layer) -> out (no output activation).

    `activation`: a name in FUSED_ACTIVATIONS (fused into the linear node) or a corenn activation
    class/name that is applied as a separate module. `output_activation` works the same way.
    """

    def __init__(self, in_features: int, out_features: int, net_arch: Sequence[int], activation="relu",
                 n_members: int | None = None, output_activation=None):
        super().__init__()
        fused_hidden, extra_hidden = _split_activation(activation)
        fused_out, extra_out = _split_activation(output_activation)
        self.layers = nn.ModuleList()
        self._extra = []
        dims = [int(in_features), *[int(w) for w in net_arch], int(out_features)]
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:])):
            last = i == len(dims) - 2
            self.layers.append(FusedLinear(d_in, d_out, n_members, fused_out if last else fused_hidden))
            self._extra.append(extra_out if last else extra_hidden)

    def forward(self, x):
        for layer, extra in zip(self.layers, self._extra):
            x = layer(x)
            if extra is not None:
                x = extra(x)
        return x


def _split_activation(activation):
    """Name/class -> (fused name or None, separate activation module or None)."""
    if activation is None:
        return None, None
    if isinstance(activation, str):
        key = activation.strip().split(".")[-1].lower()
    else:
        key = getattr(activation, "__name__", str(activation)).lower()
    if key in ("relu", "tanh"):
        return key, None
    if key == "identity":
        return None, None
    return None, get_activation(activation)()
