"""GAN losses, written as maths on corenn Tensors.

With D(x) a logit and sigma the logistic function, the binary cross-entropies are computed stably through
softplus(a) = log(1 + e^a): -log sigma(l) = softplus(-l) and -log(1 - sigma(l)) = softplus(l).

  discriminator (Goodfellow et al.):   L_D = E_x softplus(-D(x)) + E_z softplus(D(G(z)))
  non-saturating generator:            L_G = E_z softplus(-D(G(z)))          (= -E log sigma(D(G(z))))
  WGAN-GP critic (Gulrajani et al.):   L_C = E_z C(G(z)) - E_x C(x) + lambda E_xhat (||grad_xhat C(xhat)||_2 - 1)^2
  WGAN generator:                      L_G = -E_z C(G(z))
"""
from __future__ import annotations

import math

import numpy as np

import corenn
import corenn.nn.functional as F

__all__ = ["discriminator_loss", "generator_loss_nonsaturating", "gradient_penalty", "interpolate",
           "finite_float"]


def discriminator_loss(real_logits, fake_logits):
    """L_D = mean softplus(-D(x)) + mean softplus(D(G(z))); logits (B,) -> scalar."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss_nonsaturating(fake_logits):
    """L_G = mean softplus(-D(G(z))); logits (B,) -> scalar."""
    return F.softplus(-fake_logits).mean()


def interpolate(real: np.ndarray, fake: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """x_hat = eps x + (1 - eps) G(z), eps ~ U(0, 1) drawn once per example; (B, ...) -> (B, ...)."""
    eps = rng.random((real.shape[0],) + (1,) * (real.ndim - 1)).astype(real.dtype)
    return eps * real + (1 - eps) * fake


def gradient_penalty(critic, x_hat, stability: float = 1e-12):
    """E (||grad_xhat C(x_hat)||_2 - 1)^2 with the gradient kept in the graph (double backward), so the
    penalty's own gradient reaches the critic's parameters. x_hat (B, ...) array or Tensor -> scalar Tensor.
    ``stability`` inside the square root keeps its derivative finite at a zero gradient."""
    x_hat = corenn.as_tensor(x_hat.data if isinstance(x_hat, corenn.Tensor) else x_hat).detach()
    x_hat.requires_grad_(True)
    score = critic(x_hat)
    (grad,) = corenn.autograd.grad(score.sum(), x_hat, create_graph=True)
    norm = ((grad * grad).reshape(grad.shape[0], -1).sum(axis=1) + stability).sqrt()
    return ((norm - 1.0) ** 2).mean()


def finite_float(value, name: str, model: str) -> float:
    """The value as a Python float; raises FloatingPointError naming it when it is NaN or infinite."""
    v = float(value.data if isinstance(value, corenn.Tensor) else value)
    if not math.isfinite(v):
        raise FloatingPointError(f"{model}: {name} is {v} (non-finite); lower the learning rates or check the data")
    return v
