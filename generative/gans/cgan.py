"""Conditional GAN (Mirza & Osindero, 2014) on DCGAN networks, with a projection discriminator
(Miyato & Koyama, 2018).

  G(z | y) = DCGAN generator applied to [z, onehot(y)]                                (B, C, H, W) in [-1, 1]
  D(x | y) = w . phi(x) + b + embed(y) . phi(x)       phi(x): D's flattened last feature map (B, F)
  D: minimise  E_{x,y} softplus(-D(x | y)) + E_{z,y} softplus(D(G(z | y) | y))
  G: minimise  E_{z,y} softplus(-D(G(z | y) | y))

The fakes take the real batch's labels, so they follow the data's class frequencies. Architecture, init and
Adam settings are DCGAN's (``generative.gans.dcgan``).
"""
from __future__ import annotations

import numpy as np

import corenn
import corenn.nn.functional as F
from corenn import nn

from .dcgan import DCGAN
from .networks import ConvDiscriminator, ConvGenerator

__all__ = ["ConditionalGAN", "ConditionalGenerator", "ProjectionDiscriminator"]


class ConditionalGenerator(nn.Module):
    """(z (B, z_dim), labels (B,) int) -> images (B, C, H, W): a ConvGenerator on [z, onehot(labels)]."""

    def __init__(self, z_dim: int, num_classes: int, image_shape: tuple, width: int):
        super().__init__()
        self.num_classes = num_classes
        self.net = ConvGenerator(z_dim + num_classes, image_shape, width)

    def forward(self, z, labels):
        onehot = F.one_hot(np.asarray(labels), self.num_classes).data.astype(np.float32)
        return self.net(corenn.cat([corenn.as_tensor(z), corenn.as_tensor(onehot)], dim=1))


class ProjectionDiscriminator(nn.Module):
    """(images (B, C, H, W), labels (B,) int) -> logits (B,) = head(phi(x)) + <embed(labels), phi(x)>."""

    def __init__(self, image_shape: tuple, num_classes: int, width: int):
        super().__init__()
        self.body = ConvDiscriminator(image_shape, width, batch_norm=True)
        self.embed = nn.Embedding(num_classes, self.body.num_features)

    def forward(self, x, labels):
        phi = self.body.features(x)
        projection = (self.embed(np.asarray(labels)) * phi).sum(axis=1)
        return self.body.head(phi).reshape(phi.shape[0]) + projection


class ConditionalGAN(DCGAN):
    """DCGAN's recipe (hyperparameters, init, Adam) on the conditional generator and projection discriminator."""

    name = "cgan"
    conditional = True

    def dcgan_networks(self) -> tuple[nn.Module, nn.Module]:
        """The conditional generator and projection discriminator (of DCGAN's widths) before DCGAN's init."""
        if self.num_classes < 2:
            raise ValueError(f"{self.name}: num_classes must be >= 2, got {self.num_classes}")
        g_width, d_width = self.conv_widths()
        return (ConditionalGenerator(self.hparams["z_dim"], self.num_classes, self.image_shape, g_width),
                ProjectionDiscriminator(self.image_shape, self.num_classes, d_width))

    def generate(self, z, labels=None):
        return self.generator(corenn.as_tensor(z), labels)

    def discriminate(self, x, labels=None):
        return self.discriminator(corenn.as_tensor(x), labels)
