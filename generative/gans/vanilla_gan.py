"""GAN (Goodfellow et al., 2014) with MLP networks and the non-saturating generator loss.

  D: minimise  E_x softplus(-D(x)) + E_z softplus(D(G(z)))     (= BCE with logits, real 1 / fake 0)
  G: minimise  E_z softplus(-D(G(z)))                          (non-saturating: -E log sigma(D(G(z))))

G: z (z_dim) -> LeakyReLU(0.2) MLP -> tanh image in [-1, 1]; D: flattened image -> LeakyReLU(0.2) MLP -> logit.
One D step and one G step per batch; Adam for both.
"""
from __future__ import annotations

from .adversarial import NonSaturatingGAN
from .networks import MLPDiscriminator, MLPGenerator

__all__ = ["GAN"]


def _hidden(value, key: str, name: str) -> tuple:
    if not isinstance(value, (list, tuple)) or not value or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise ValueError(f"{name}: {key} must be a non-empty list of positive ints, got {value!r}")
    return tuple(value)


class GAN(NonSaturatingGAN):
    name = "gan"
    conditional = False

    @classmethod
    def default_hparams(cls) -> dict:
        return {"z_dim": 64, "g_hidden": [256, 512], "d_hidden": [512, 256],
                "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999}

    def build_networks(self):
        """LeakyReLU MLPs of widths g_hidden (z -> tanh image) and d_hidden (flattened image -> logit)."""
        h = self.hparams
        return (MLPGenerator(h["z_dim"], self.image_shape, _hidden(h["g_hidden"], "g_hidden", self.name)),
                MLPDiscriminator(self.image_shape, _hidden(h["d_hidden"], "d_hidden", self.name)))
