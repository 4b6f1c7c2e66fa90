"""What every GAN here shares: a generator and a discriminator (or critic) with one Adam each, Gaussian noise
z ~ N(0, I), pixels in [-1, 1] (``data_range = "symmetric"``; the generator ends in tanh), batch checks and
``sample``. ``NonSaturatingGAN`` adds the train step of the original GAN with the non-saturating generator
loss (used by GAN, DCGAN and the conditional GAN); WGAN-GP has its own.
"""
from __future__ import annotations

from abc import abstractmethod

import numpy as np

import corenn
from corenn import nn, optim

from ..core.base import GenerativeModel
from .losses import discriminator_loss, finite_float, generator_loss_nonsaturating
from .networks import ConvDiscriminator, ConvGenerator

__all__ = ["AdversarialModel", "NonSaturatingGAN", "positive_int"]

SAMPLE_CHUNK = 256  # images generated per forward pass in sample()


def positive_int(value, key: str, model: str) -> int:
    """A hyperparameter that must be a positive int, or ValueError naming it."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{model}: {key} must be a positive int, got {value!r}")
    return value


class AdversarialModel(GenerativeModel):
    """Base of the GANs. Subclasses return their (generator, discriminator) from ``build_networks``; ``__init__``
    checks the hyperparameters every GAN reads (z_dim, lr_g, lr_d, beta1, beta2), builds the two networks and
    an Adam for each."""

    data_range = "symmetric"
    generator: nn.Module
    discriminator: nn.Module

    def __init__(self, image_shape: tuple = (1, 28, 28), num_classes: int = 10, **hparams):
        super().__init__(image_shape, num_classes, **hparams)
        h = self.hparams
        positive_int(h["z_dim"], "z_dim", self.name)
        for key in ("lr_g", "lr_d"):
            if not float(h[key]) > 0:
                raise ValueError(f"{self.name}: {key} must be > 0, got {h[key]!r}")
        for key in ("beta1", "beta2"):
            if not 0.0 <= float(h[key]) < 1.0:
                raise ValueError(f"{self.name}: {key} must lie in [0, 1), got {h[key]!r}")
        self.generator, self.discriminator = self.build_networks()
        self.build_optimizers()

    @abstractmethod
    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        """(generator, discriminator) of this GAN, initialised, from ``self.hparams``."""

    def conv_widths(self) -> tuple[int, int]:
        """(g_width, d_width) from the hyperparameters, each a positive int (the convolutional GANs')."""
        return (positive_int(self.hparams["g_width"], "g_width", self.name),
                positive_int(self.hparams["d_width"], "d_width", self.name))

    def conv_networks(self, batch_norm: bool) -> tuple[nn.Module, nn.Module]:
        """DCGAN's networks: ConvGenerator z (B, z_dim) -> (B, C, H, W) and ConvDiscriminator (B, C, H, W) -> (B,),
        of widths ``conv_widths()``; ``batch_norm`` in the discriminator or not."""
        g_width, d_width = self.conv_widths()
        return (ConvGenerator(self.hparams["z_dim"], self.image_shape, g_width),
                ConvDiscriminator(self.image_shape, d_width, batch_norm=batch_norm))

    def build_optimizers(self) -> None:
        betas = (float(self.hparams["beta1"]), float(self.hparams["beta2"]))
        self.opt_g = optim.Adam(self.generator.parameters(), lr=float(self.hparams["lr_g"]), betas=betas)
        self.opt_d = optim.Adam(self.discriminator.parameters(), lr=float(self.hparams["lr_d"]), betas=betas)

    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def optimizers(self) -> dict:
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    # ---- the two networks, with labels for conditional models -----------------------------------------------
    def noise(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """z ~ N(0, I): (n, z_dim) float32."""
        return rng.standard_normal((n, self.hparams["z_dim"])).astype(np.float32)

    def generate(self, z, labels=None):
        """G(z | labels): z (B, z_dim) array or Tensor -> images (B, C, H, W) in [-1, 1] as a Tensor."""
        return self.generator(corenn.as_tensor(z))

    def discriminate(self, x, labels=None):
        """D(x | labels): images (B, C, H, W) array or Tensor -> logits or critic scores (B,)."""
        return self.discriminator(corenn.as_tensor(x))

    def check_batch(self, x: np.ndarray, y: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """x as float32 (B, C, H, W) in [-1, 1]; y as int64 (B,) for conditional models (else None)."""
        x = np.asarray(x)
        if x.ndim != 4 or x.shape[1:] != self.image_shape or x.shape[0] < 2:
            raise ValueError(f"{self.name}: expected a batch of shape (B >= 2, {', '.join(map(str, self.image_shape))})"
                             f", got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{self.name}: the image batch holds NaN or inf")
        if not self.conditional:
            return x.astype(np.float32, copy=False), None
        y = np.asarray(y)
        if y.shape != (x.shape[0],) or y.dtype.kind not in "iu":
            raise ValueError(f"{self.name}: labels must be ({x.shape[0]},) integers, got {y.shape} {y.dtype}")
        if y.min() < 0 or y.max() >= self.num_classes:
            raise ValueError(f"{self.name}: labels must lie in [0, {self.num_classes}), got {y.min()}..{y.max()}")
        return x.astype(np.float32, copy=False), y.astype(np.int64)

    def sample(self, n: int, labels: np.ndarray | None = None, rng: np.random.Generator | None = None,
               **options) -> np.ndarray:
        """n images (n, C, H, W) float32 in [0, 1]: (G(z) + 1) / 2 with the generator in eval mode (BatchNorm on
        its running statistics, so a sample does not depend on the others drawn with it)."""
        if options:
            raise TypeError(f"{self.name}.sample() takes no options, got {sorted(options)}")
        labels = self.check_labels(labels, n)
        rng = np.random.default_rng() if rng is None else rng
        was_training = self.generator.training
        self.generator.eval()
        try:
            out = np.empty((n, *self.image_shape), dtype=np.float32)
            with corenn.no_grad():
                for i in range(0, n, SAMPLE_CHUNK):
                    j = min(n, i + SAMPLE_CHUNK)
                    chunk_labels = None if labels is None else labels[i:j]
                    out[i:j] = self.generate(self.noise(j - i, rng), chunk_labels).data
        finally:
            self.generator.train(was_training)
        return np.clip((out + 1.0) * 0.5, 0.0, 1.0)


class NonSaturatingGAN(AdversarialModel):
    """One discriminator step, then one generator step, per batch (Goodfellow et al., k = 1):

      D: minimise  mean softplus(-D(x)) + mean softplus(D(G(z)))      (BCE: real -> 1, fake -> 0)
      G: minimise  mean softplus(-D(G(z)))                             (non-saturating: fake -> 1)

    with fresh z for each step; a conditional model gives the fakes the real batch's labels."""

    def train_step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        x, y = self.check_batch(x, y)
        b = x.shape[0]

        # discriminator: real -> 1, G(z) -> 0; the fakes are constants here
        with corenn.no_grad():
            fake = self.generate(self.noise(b, rng), y).data
        real_logits = self.discriminate(x, y)
        fake_logits = self.discriminate(fake, y)
        loss_d = discriminator_loss(real_logits, fake_logits)
        stats = {"loss_d": finite_float(loss_d, "discriminator loss", self.name)}
        self.opt_d.zero_grad()
        loss_d.backward()
        self.opt_d.step()

        # generator: make D call G(z) real; D's weights get no gradient
        self.discriminator.requires_grad_(False)
        try:
            fake_logits_g = self.discriminate(self.generate(self.noise(b, rng), y), y)
            loss_g = generator_loss_nonsaturating(fake_logits_g)
            stats["loss_g"] = finite_float(loss_g, "generator loss", self.name)
            self.opt_g.zero_grad()
            loss_g.backward()
            self.opt_g.step()
        finally:
            self.discriminator.requires_grad_(True)

        stats["d_real"] = float(corenn.sigmoid(real_logits).data.mean())   # D(x): D's belief the reals are real
        stats["d_fake"] = float(corenn.sigmoid(fake_logits).data.mean())   # D(G(z)) before D's step
        stats["d_fake_after"] = float(corenn.sigmoid(fake_logits_g).data.mean())  # D(G(z)) after it
        return stats
