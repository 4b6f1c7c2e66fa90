"""DCGAN (Radford et al., 2016), adapted to 28x28 (and 32x32 when image_shape says so).

Losses as the GAN's (non-saturating generator):
  D: minimise  E_x softplus(-D(x)) + E_z softplus(D(G(z)))
  G: minimise  E_z softplus(-D(G(z)))

G: z (100) -> Linear -> 7x7x(2w) -> BN, ReLU -> ConvT(4, s2) 14x14x(w) -> BN, ReLU -> ConvT(4, s2) 28x28xC -> tanh.
D: Conv(4, s2) 14x14x(w) -> LeakyReLU(0.2) -> Conv(4, s2) 7x7x(2w) -> BN, LeakyReLU(0.2) -> Linear -> logit.
(32x32: one more doubling, 4x4x(4w) -> ... -> 32x32.) The paper's recipe: no BN on G's output or D's input,
weights N(0, 0.02), Adam lr 2e-4, betas (0.5, 0.999). One D step and one G step per batch. The default width
w = 32 (G 7x7x64 -> 14x14x32 -> 28x28, D 32 -> 64 channels) keeps an epoch near 6 CPU minutes; g_width=64,
d_width=64 gives the 128/64-channel nets (about 2.3x the time).
"""
from __future__ import annotations

from corenn import nn

from .adversarial import NonSaturatingGAN
from .networks import dcgan_init_

__all__ = ["DCGAN"]


class DCGAN(NonSaturatingGAN):
    """DCGAN's recipe around the networks ``dcgan_networks`` returns (the conditional GAN overrides it)."""

    name = "dcgan"
    conditional = False

    @classmethod
    def default_hparams(cls) -> dict:
        return {"z_dim": 100, "g_width": 32, "d_width": 32, "init_std": 0.02,
                "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999}

    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        """``dcgan_networks()`` with DCGAN's init: weights N(0, init_std), BatchNorm scales N(1, init_std)."""
        generator, discriminator = self.dcgan_networks()
        std = float(self.hparams["init_std"])
        return dcgan_init_(generator, std), dcgan_init_(discriminator, std)

    def dcgan_networks(self) -> tuple[nn.Module, nn.Module]:
        """(generator, discriminator) before init: the convolutional pair, BN in the discriminator."""
        return self.conv_networks(batch_norm=True)
