"""Generators and discriminators for the GANs, built from corenn layers.

Convolutional nets follow Radford et al. (DCGAN): the generator maps z to a small s x s map and doubles
it with stride-2 transposed convolutions; the discriminator halves the image with stride-2 convolutions.
``upsampling_plan`` picks s and the number of doublings from the image size (28 -> 7 -> 14 -> 28;
32 -> 4 -> 8 -> 16 -> 32). Channel widths double toward the small end: with ``width`` w and three
doublings the generator runs 4w -> 2w -> w -> C and the discriminator C -> w -> 2w -> 4w -> 1.
"""
from __future__ import annotations

import numpy as np

import corenn
import corenn.nn.functional as F
from corenn import nn

__all__ = ["upsampling_plan", "ConvGenerator", "ConvDiscriminator", "MLPGenerator", "MLPDiscriminator",
           "dcgan_init_"]


def upsampling_plan(image_shape: tuple) -> tuple[int, int]:
    """(s, n): the generator starts from s x s and doubles n >= 1 times to reach H = W = s * 2**n.
    Halves H while it is even and above 7, so 28 -> (7, 2), 32 -> (4, 3), 8 -> (4, 1)."""
    _, h, w = image_shape
    if h != w:
        raise ValueError(f"convolutional GANs need square images, got image_shape {tuple(image_shape)}")
    s, n = h, 0
    while s % 2 == 0 and s > 7:
        s, n = s // 2, n + 1
    if n == 0:
        raise ValueError(f"convolutional GANs need an image side that halves at least once down to <= 7 "
                         f"(e.g. 28 or 32), got {h}")
    return s, n


class ConvGenerator(nn.Module):
    """z (B, in_features) -> images (B, C, H, W) in [-1, 1] (tanh).

    Linear -> (w * 2**(n-1), s, s), BatchNorm, ReLU, then n ConvTranspose2d(k=4, stride 2, pad 1) layers, each
    but the last followed by BatchNorm and ReLU."""

    def __init__(self, in_features: int, image_shape: tuple, width: int = 64, dtype=np.float32):
        super().__init__()
        c, _, _ = image_shape
        self.start, n_up = upsampling_plan(image_shape)
        self.start_channels = width * 2 ** (n_up - 1)
        self.project = nn.Linear(in_features, self.start_channels * self.start ** 2, bias=False, dtype=dtype)
        self.project_norm = nn.BatchNorm2d(self.start_channels)
        layers, ch = [], self.start_channels
        for i in range(n_up):
            last = i == n_up - 1
            out = c if last else ch // 2
            layers.append(nn.ConvTranspose2d(ch, out, 4, stride=2, padding=1, bias=last, dtype=dtype))
            if not last:
                layers += [nn.BatchNorm2d(out), nn.ReLU()]
            ch = out
        self.body = nn.Sequential(*layers)

    def forward(self, z):
        h = self.project(z).reshape(z.shape[0], self.start_channels, self.start, self.start)
        return F.tanh(self.body(F.relu(self.project_norm(h))))


class ConvDiscriminator(nn.Module):
    """images (B, C, H, W) -> logits (B,).

    n Conv2d(k=4, stride 2, pad 1) layers C -> w -> 2w -> ..., LeakyReLU(0.2) after each, BatchNorm after all
    but the first when ``batch_norm`` (DCGAN; WGAN-GP's critic has none), then a Linear on the flattened map.
    ``features`` returns that flattened map (B, F) for a projection head (cGAN)."""

    def __init__(self, image_shape: tuple, width: int = 64, batch_norm: bool = True, dtype=np.float32):
        super().__init__()
        c, _, _ = image_shape
        start, n_down = upsampling_plan(image_shape)
        layers, ch = [], c
        for i in range(n_down):
            out = width * 2 ** i
            layers.append(nn.Conv2d(ch, out, 4, stride=2, padding=1, bias=not (batch_norm and i > 0), dtype=dtype))
            if batch_norm and i > 0:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.LeakyReLU(0.2))
            ch = out
        self.body = nn.Sequential(*layers)
        self.num_features = ch * start * start
        self.head = nn.Linear(self.num_features, 1, dtype=dtype)

    def features(self, x):
        return self.body(x).reshape(x.shape[0], self.num_features)

    def forward(self, x):
        return self.head(self.features(x)).reshape(x.shape[0])


class MLPGenerator(nn.Module):
    """z (B, in_features) -> images (B, C, H, W) in [-1, 1]: Linear + LeakyReLU(0.2) hidden layers, tanh out."""

    def __init__(self, in_features: int, image_shape: tuple, hidden: tuple = (256, 512), dtype=np.float32):
        super().__init__()
        self.image_shape = tuple(image_shape)
        sizes, layers = [in_features, *hidden], []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b, dtype=dtype), nn.LeakyReLU(0.2)]
        layers.append(nn.Linear(sizes[-1], int(np.prod(image_shape)), dtype=dtype))
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return F.tanh(self.net(z)).reshape(z.shape[0], *self.image_shape)


class MLPDiscriminator(nn.Module):
    """images (B, C, H, W) -> logits (B,): flatten, Linear + LeakyReLU(0.2) hidden layers, Linear to 1."""

    def __init__(self, image_shape: tuple, hidden: tuple = (512, 256), dtype=np.float32):
        super().__init__()
        sizes, layers = [int(np.prod(image_shape)), *hidden], [nn.Flatten()]
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b, dtype=dtype), nn.LeakyReLU(0.2)]
        layers.append(nn.Linear(sizes[-1], 1, dtype=dtype))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).reshape(x.shape[0])


def dcgan_init_(module: nn.Module, std: float = 0.02) -> nn.Module:
    """Radford et al.'s init, in place: conv/linear weights ~ N(0, std), BatchNorm scale ~ N(1, std), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, std)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, std)
        bias = getattr(m, "bias", None)
        if isinstance(bias, corenn.Tensor):
            nn.init.zeros_(bias)
    return module
