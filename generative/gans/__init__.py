"""GANs: GAN (MLP), DCGAN, WGAN-GP and a conditional GAN, each a ``generative.core.GenerativeModel``."""
from .cgan import ConditionalGAN
from .dcgan import DCGAN
from .vanilla_gan import GAN
from .wgan_gp import WGANGP

__all__ = ["GAN", "DCGAN", "WGANGP", "ConditionalGAN"]
