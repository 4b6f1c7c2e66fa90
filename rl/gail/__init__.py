"""Generative adversarial imitation learning: `GAIL` (a PPO generator on a discriminator's reward)."""
from .gail import GAIL, Discriminator, discriminator_loss, gail_reward

__all__ = ["GAIL", "Discriminator", "discriminator_loss", "gail_reward"]
