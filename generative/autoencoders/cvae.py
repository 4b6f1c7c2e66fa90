"""Conditional VAE (Sohn et al. 2015): the VAE of ``vae.py`` with a one-hot label c in both networks.

    q(z|x, c) = N(mu(x, c), diag exp(logvar(x, c))),  p(z) = N(0, I),  p(x|z, c) from the decoder
    ELBO(x|c) = E_q[log p(x|z, c)] - KL(q(z|x, c) || p(z))
    log p(x) >= log (1/K) sum_c exp L_k(x|c)      (uniform class prior; each L_k(x|c) <= log p(x|c))

The label is concatenated to the encoder's flattened features and to z (``networks.py``). ``sample(n, labels)``
draws z ~ N(0, I) and decodes it with the given classes; ``log_likelihood_bound(x, k)`` bounds log p(x|c) with
labels and log p(x) (the mixture over all K classes, K times the work) without.
"""
from __future__ import annotations

import math

import numpy as np

from corenn.utils.math_utils import logsumexp

from .vae import VAE

__all__ = ["CVAE"]


class CVAE(VAE):
    """VAE conditioned on class labels (B,) int64; ``encode``, ``decode``, ``elbo`` and ``train_step`` need them."""

    name = "cvae"
    conditional = True

    def log_likelihood_bound(self, x: np.ndarray, k: int = 1000, rng: np.random.Generator | None = None,
                             labels: np.ndarray | None = None, samples_per_pass: int | None = None) -> np.ndarray:
        """L_k(x|c) (B,) in nats with ``labels``; without, the bound on log p(x) under a uniform class prior."""
        if labels is not None:
            return super().log_likelihood_bound(x, k, rng, labels, samples_per_pass)
        rng = np.random.default_rng() if rng is None else rng
        per_class = [super(CVAE, self).log_likelihood_bound(x, k, rng, np.full(len(x), c, np.int64),
                                                            samples_per_pass) for c in range(self.num_classes)]
        return logsumexp(np.stack(per_class), axis=0) - math.log(self.num_classes)
