"""Encoder and decoder networks shared by the autoencoders (MLP or small conv nets for 28x28-like images).

``Encoder``: x (B, C, H, W) [+ condition c (B, K)] -> (B, out_features).
``Decoder``: z (B, D) [+ condition c (B, K)] -> logits (B, C, H, W).
The condition (a one-hot label for the CVAE) is concatenated to the flattened features in the encoder and to
``z`` in the decoder. The conv nets halve the image twice (28 -> 14 -> 7), so H and W must be divisible by 4.
"""
from __future__ import annotations

import numpy as np

import corenn
from corenn import nn

__all__ = ["ACTIVATIONS", "ARCHS", "Encoder", "Decoder"]

ACTIVATIONS = {"tanh": nn.Tanh, "softplus": nn.Softplus, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU}
ARCHS = ("mlp", "conv")


def _activation(name: str) -> type:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def _check_arch(arch: str, image_shape: tuple, conv_channels: list) -> None:
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; choose from {list(ARCHS)}")
    if arch == "conv":
        if image_shape[1] % 4 or image_shape[2] % 4:
            raise ValueError(f"arch 'conv' halves the image twice: H and W must be divisible by 4, "
                             f"got image_shape {image_shape}")
        if len(conv_channels) != 2 or any(int(c) < 1 for c in conv_channels):
            raise ValueError(f"conv_channels must be two positive ints, got {conv_channels}")


def _mlp(sizes: list[int], activation: type, final_activation: bool) -> nn.Sequential:
    """Linear layers through ``sizes`` with ``activation`` between them (and after the last if asked)."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if final_activation or i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    """(B, C, H, W) images [+ (B, cond_dim) condition] -> (B, out_features)."""

    def __init__(self, image_shape: tuple, out_features: int, hidden_sizes: list, arch: str = "mlp",
                 activation: str = "tanh", cond_dim: int = 0, conv_channels: list = (32, 64)):
        super().__init__()
        _check_arch(arch, image_shape, list(conv_channels))
        act = _activation(activation)
        c, h, w = image_shape
        if arch == "conv":
            c1, c2 = (int(v) for v in conv_channels)
            self.trunk = nn.Sequential(nn.Conv2d(c, c1, 4, stride=2, padding=1), act(),
                                       nn.Conv2d(c1, c2, 4, stride=2, padding=1), act(), nn.Flatten())
            features = c2 * (h // 4) * (w // 4)
        else:
            self.trunk = nn.Flatten()
            features = c * h * w
        self.cond_dim = int(cond_dim)
        self.head = _mlp([features + self.cond_dim, *[int(s) for s in hidden_sizes], int(out_features)], act,
                         final_activation=False)

    def forward(self, x, c=None):
        features = self.trunk(x)
        if self.cond_dim:
            features = corenn.cat([features, c], dim=1)
        return self.head(features)


class Decoder(nn.Module):
    """(B, latent_dim) codes [+ (B, cond_dim) condition] -> (B, C, H, W) logits (or means, for MSE)."""

    def __init__(self, image_shape: tuple, latent_dim: int, hidden_sizes: list, arch: str = "mlp",
                 activation: str = "tanh", cond_dim: int = 0, conv_channels: list = (32, 64)):
        super().__init__()
        _check_arch(arch, image_shape, list(conv_channels))
        act = _activation(activation)
        self.image_shape = tuple(image_shape)
        c, h, w = image_shape
        self.cond_dim = int(cond_dim)
        sizes = [int(latent_dim) + self.cond_dim, *[int(s) for s in hidden_sizes]]
        if arch == "conv":
            c1, c2 = (int(v) for v in conv_channels)
            self.grid = (c2, h // 4, w // 4)
            self.head = _mlp([*sizes, int(np.prod(self.grid))], act, final_activation=True)
            self.body = nn.Sequential(nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), act(),
                                      nn.ConvTranspose2d(c1, c, 4, stride=2, padding=1))
        else:
            self.grid = None
            self.head = _mlp([*sizes, c * h * w], act, final_activation=False)

    def forward(self, z, c=None):
        if self.cond_dim:
            z = corenn.cat([z, c], dim=1)
        out = self.head(z)
        if self.grid is None:
            return out.reshape(-1, *self.image_shape)
        return self.body(out.reshape(-1, *self.grid))
