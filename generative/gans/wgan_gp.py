"""WGAN-GP (Gulrajani et al., 2017): a Wasserstein critic kept 1-Lipschitz by a gradient penalty.

  critic:     minimise  E_z C(G(z)) - E_x C(x) + lambda E_xhat (||grad_xhat C(xhat)||_2 - 1)^2,
              xhat = eps x + (1 - eps) G(z),  eps ~ U(0, 1) per example
  generator:  minimise  -E_z C(G(z))

The penalty differentiates a gradient: ``corenn.autograd.grad(C(xhat).sum(), xhat, create_graph=True)``.
Paper defaults: n_critic 5, lambda 10, Adam lr 1e-4, betas (0, 0.9), a critic without batch norm (here the DCGAN
discriminator's convolutions with LeakyReLU(0.2) and no normalisation; the generator is DCGAN's, with BN;
default widths 32, as DCGAN's here).

Batches: the paper draws a fresh real batch of m for each of its n_critic critic iterations, then one generator
step on m noise vectors. The trainer hands over one batch per call, so ``train_step`` splits it into n_critic
disjoint chunks, one per critic iteration (fresh reals and fresh noise each), and takes the generator step on
as many noise vectors as a chunk holds. A trainer batch of n_critic * m reproduces the paper's loop exactly
(``--batch-size 320`` for its m = 64), and one epoch shows the critic every real image once.
"""
from __future__ import annotations

import numpy as np

import corenn

from .adversarial import AdversarialModel, positive_int
from .losses import finite_float, gradient_penalty, interpolate

__all__ = ["WGANGP"]


class WGANGP(AdversarialModel):
    name = "wgan_gp"
    conditional = False

    @classmethod
    def default_hparams(cls) -> dict:
        return {"z_dim": 128, "g_width": 32, "d_width": 32, "n_critic": 5, "gp_lambda": 10.0,
                "lr_g": 1e-4, "lr_d": 1e-4, "beta1": 0.0, "beta2": 0.9}

    def __init__(self, image_shape: tuple = (1, 28, 28), num_classes: int = 10, **hparams):
        super().__init__(image_shape, num_classes, **hparams)
        h = self.hparams
        self.n_critic = positive_int(h["n_critic"], "n_critic", self.name)
        self.gp_lambda = float(h["gp_lambda"])
        if not self.gp_lambda >= 0:
            raise ValueError(f"{self.name}: gp_lambda must be >= 0, got {h['gp_lambda']!r}")

    def build_networks(self):
        """DCGAN's generator and a critic of DCGAN's convolutions without batch norm (the paper's)."""
        return self.conv_networks(batch_norm=False)

    @property
    def critic(self):
        return self.discriminator

    def train_step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        x, _ = self.check_batch(x, y)
        if x.shape[0] < 2 * self.n_critic:
            raise ValueError(f"{self.name}: a batch of {x.shape[0]} cannot be split into n_critic={self.n_critic} "
                             f"chunks of >= 2; use a batch size of at least {2 * self.n_critic} "
                             f"(the paper's loop: n_critic * 64)")
        totals = {"loss_critic": 0.0, "wasserstein": 0.0, "gradient_penalty": 0.0, "c_real": 0.0, "c_fake": 0.0}
        chunks = np.array_split(x, self.n_critic)
        for real in chunks:
            with corenn.no_grad():
                fake = self.generate(self.noise(real.shape[0], rng)).data
            score_real = self.discriminate(real).mean()
            score_fake = self.discriminate(fake).mean()
            penalty = gradient_penalty(self.critic, interpolate(real, fake, rng))
            loss_c = score_fake - score_real + self.gp_lambda * penalty
            finite_float(loss_c, "critic loss", self.name)
            self.opt_d.zero_grad()
            loss_c.backward()
            self.opt_d.step()
            for key, v in (("loss_critic", loss_c), ("gradient_penalty", penalty), ("c_real", score_real),
                           ("c_fake", score_fake)):
                totals[key] += float(v.data) / self.n_critic
        totals["wasserstein"] = totals["c_real"] - totals["c_fake"]  # E C(x) - E C(G(z)), the W1 estimate

        self.critic.requires_grad_(False)
        try:
            loss_g = -self.discriminate(self.generate(self.noise(chunks[0].shape[0], rng))).mean()
            totals["loss_g"] = finite_float(loss_g, "generator loss", self.name)
            self.opt_g.zero_grad()
            loss_g.backward()
            self.opt_g.step()
        finally:
            self.critic.requires_grad_(True)
        return totals
