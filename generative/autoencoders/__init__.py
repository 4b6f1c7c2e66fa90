"""Autoencoders: a deterministic AE, the VAE (ELBO and importance-weighted bound), the conditional VAE and the
VQ-VAE."""
from .cvae import CVAE
from .vae import VAE
from .vanilla_ae import Autoencoder
from .vqvae import VQVAE

__all__ = ["Autoencoder", "VAE", "CVAE", "VQVAE"]
