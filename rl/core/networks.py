"""Network builders shared by every policy: activations by name, Linear/activation MLPs with
orthogonal init (on-policy), and fused MLPs for the off-policy hot loop, including ensembles.

`create_mlp` builds an nn.Sequential of nn.Linear (weight (out, in)): (B, in) -> (B, out).

`FusedLinear` computes act(x @ W + b) as one autograd node (`corenn.nn.functional.fused_linear`)
with weight (in, out). Given `n_members` E it stacks E networks' weights as (E, in, out), so E
critics are evaluated with one batched matmul per layer:
    x (B, in) shared by all members, or (E, B, in)  ->  (E, B, out)
    without an ensemble (n_members=None): x (B, in) -> (B, out)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from corenn import nn
from corenn.creation import generator
from corenn.nn.functional import fused_linear
from corenn.ops import FUSED_ACTIVATIONS

__all__ = ["get_activation", "activation_name", "activation_key", "layer_widths", "create_mlp", "init_orthogonal",
           "FusedLinear", "FusedMLP", "FUSED_ACTIVATIONS"]

_ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU", "elu": "ELU", "leakyrelu": "LeakyReLU", "leaky_relu": "LeakyReLU",
                "silu": "SiLU", "gelu": "GELU", "sigmoid": "Sigmoid", "identity": "Identity", "softplus": "Softplus"}


def get_activation(activation_fn) -> type:
    """A corenn activation class from a class or a name ("tanh", "ReLU", "nn.ReLU", ...)."""
    if isinstance(activation_fn, type) and issubclass(activation_fn, nn.Module):
        return activation_fn
    if isinstance(activation_fn, str):
        key = activation_fn.strip().split(".")[-1].lower()
        if key in _ACTIVATIONS:
            return getattr(nn, _ACTIVATIONS[key])
        raise ValueError(f"unknown activation {activation_fn!r}; use one of {sorted(set(_ACTIVATIONS.values()))}")
    name = getattr(activation_fn, "__name__", None)  # e.g. torch.nn.ReLU passed by SB3 habit
    if name is not None and name.lower() in _ACTIVATIONS:
        return getattr(nn, _ACTIVATIONS[name.lower()])
    raise TypeError(f"activation_fn must be a corenn.nn activation class or a name, got {activation_fn!r}")


def activation_name(activation_fn) -> str:
    """Class name of the activation ("Tanh"), as on-policy checkpoints store it."""
    return get_activation(activation_fn).__name__


def activation_key(activation_fn) -> str:
    """Lower-case name ("relu") from a name or class, as FusedMLP and off-policy checkpoints use it."""
    name = activation_fn if isinstance(activation_fn, str) else getattr(activation_fn, "__name__", "relu")
    return name.split(".")[-1].lower()


def layer_widths(net_arch) -> list[int]:
    """net_arch as a list of positive int widths; ValueError naming the bad entry otherwise."""
    if isinstance(net_arch, (str, bytes)) or not hasattr(net_arch, "__iter__"):
        raise ValueError(f"net_arch must be a list of layer widths such as [64, 64], got {net_arch!r}")
    widths = list(net_arch)
    for w in widths:
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 1:
            raise ValueError(f"net_arch must be a list of positive integer layer widths, got {widths!r}")
    return [int(w) for w in widths]


def create_mlp(input_dim: int, output_dim: int, net_arch: Sequence[int], activation_fn=nn.ReLU,
               squash_output: bool = False) -> nn.Sequential:
    """Linear/activation stack input_dim -> net_arch... -> output_dim (output_dim <= 0: no output layer)."""
    act = get_activation(activation_fn)
    layers, last = [], int(input_dim)
    for width in layer_widths(net_arch):
        layers += [nn.Linear(last, width), act()]
        last = width
    if output_dim > 0:
        layers.append(nn.Linear(last, int(output_dim)))
    if squash_output:
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def init_orthogonal(module: nn.Module, gain: float) -> None:
    """Orthogonal weights with `gain`, zero biases, for every Linear inside `module` (SB3 init_weights)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.orthogonal_(m.weight, gain)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0.0)


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
        dims = [int(in_features), *layer_widths(net_arch), int(out_features)]
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
