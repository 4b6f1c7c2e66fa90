"""MLP builders and value networks: V(s), Q(s, a) for continuous actions, Q(s, .) for discrete ones.

Inputs are float32 feature arrays/Tensors (B, obs_dim) (see `policies.ObsPreprocessor`);
outputs are Tensors (B,) for V and Q(s, a), (B, n_actions) for the discrete Q network.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

import corenn
from corenn import nn

__all__ = ["get_activation", "activation_name", "create_mlp", "init_orthogonal", "ValueFunction",
           "QFunction", "DiscreteQNetwork"]

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
    return get_activation(activation_fn).__name__


def create_mlp(input_dim: int, output_dim: int, net_arch: Sequence[int], activation_fn=nn.ReLU,
               squash_output: bool = False) -> nn.Sequential:
    """Linear/activation stack input_dim -> net_arch... -> output_dim (output_dim <= 0: no output layer)."""
    act = get_activation(activation_fn)
    layers, last = [], int(input_dim)
    for width in net_arch:
        layers += [nn.Linear(last, int(width)), act()]
        last = int(width)
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


def _tensor(x) -> corenn.Tensor:
    return x if isinstance(x, corenn.Tensor) else corenn.Tensor(np.asarray(x, np.float32))


class ValueFunction(nn.Module):
    """V(s): (B, obs_dim) -> (B,)."""

    def __init__(self, obs_dim: int, net_arch: Sequence[int] = (64, 64), activation_fn=nn.Tanh,
                 ortho_init: bool = False):
        super().__init__()
        self.net = create_mlp(obs_dim, 1, net_arch, activation_fn)
        if ortho_init:
            init_orthogonal(self.net, math.sqrt(2))
            init_orthogonal(self.net[len(self.net) - 1], 1.0)

    def forward(self, obs) -> corenn.Tensor:
        return self.net(_tensor(obs)).reshape(-1)


class QFunction(nn.Module):
    """Q(s, a) for continuous actions: concat(obs (B, obs_dim), act (B, act_dim)) -> (B,)."""

    def __init__(self, obs_dim: int, action_dim: int, net_arch: Sequence[int] = (256, 256), activation_fn=nn.ReLU):
        super().__init__()
        self.obs_dim, self.action_dim = int(obs_dim), int(action_dim)
        self.net = create_mlp(obs_dim + action_dim, 1, net_arch, activation_fn)

    def forward(self, obs, actions) -> corenn.Tensor:
        x = corenn.cat([_tensor(obs), _tensor(actions)], axis=-1)
        return self.net(x).reshape(-1)


class DiscreteQNetwork(nn.Module):
    """Q(s, .) for Discrete actions: (B, obs_dim) -> (B, n_actions)."""

    def __init__(self, obs_dim: int, n_actions: int, net_arch: Sequence[int] = (64, 64), activation_fn=nn.ReLU):
        super().__init__()
        self.n_actions = int(n_actions)
        self.net = create_mlp(obs_dim, n_actions, net_arch, activation_fn)

    def forward(self, obs) -> corenn.Tensor:
        return self.net(_tensor(obs))
