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

from .adversarial import NonSaturatingGAN, positive_int
from .networks import ConvDiscriminator, ConvGenerator, dcgan_init_

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


class ConditionalGAN(NonSaturatingGAN):
    name = "cgan"
    conditional = True

    @classmethod
    def default_hparams(cls) -> dict:
        return {"z_dim": 100, "g_width": 32, "d_width": 32, "init_std": 0.02,
                "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999}

    def __init__(self, image_shape: tuple = (1, 28, 28), num_classes: int = 10, **hparams):
        super().__init__(image_shape, num_classes, **hparams)
        h = self.hparams
        if self.num_classes < 2:
            raise ValueError(f"{self.name}: num_classes must be >= 2, got {self.num_classes}")
        self.generator = ConditionalGenerator(h["z_dim"], self.num_classes, self.image_shape,
                                              positive_int(h["g_width"], "g_width", self.name))
        self.discriminator = ProjectionDiscriminator(self.image_shape, self.num_classes,
                                                     positive_int(h["d_width"], "d_width", self.name))
        dcgan_init_(self.generator, float(h["init_std"]))
        dcgan_init_(self.discriminator, float(h["init_std"]))
        self.build_optimizers()

    def generate(self, z, labels=None):
        return self.generator(corenn.as_tensor(z), labels)

    def discriminate(self, x, labels=None):
        return self.discriminator(corenn.as_tensor(x), labels)
