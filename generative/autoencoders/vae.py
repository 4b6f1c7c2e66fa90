"""Variational autoencoder (Kingma & Welling 2014) with the importance-weighted bound (Burda et al. 2016).

    q(z|x) = N(mu(x), diag exp(logvar(x))),  p(z) = N(0, I),  z = mu + exp(logvar / 2) * eps,  eps ~ N(0, I)
    ELBO(x)   = E_q[log p(x|z)] - KL(q(z|x) || p(z))                   (KL in closed form; one z per step)
    loss      = mean_B( -log p(x|z) + w_t * KL ),  w_t = min(1, t / kl_warmup_steps)  (w = 1 without warm-up)
    L_k(x)    = log (1/k) sum_j p(x, z_j) / q(z_j|x),  z_j ~ q(z|x)    (IWAE bound: L_1 = ELBO <= L_k <= log p(x))
    NLL bound = -L_k(x) in nats (generative.metrics.nll_bound; k = 1000 or 5000 on the binarised test set)

Decoders: ``bernoulli`` (logits; data_range "binary", dynamically binarised pixels) or ``gaussian`` (mean =
sigmoid(output), a learned per-pixel log-variance bounded below by log(1e-4), or a fixed variance; data_range
"unit"). Default: the published MLP setting, 784-300-300-(40 + 40) and its mirror with tanh units (Burda et al.
use tanh; softplus is an hparam), Adam 1e-3.
"""
from __future__ import annotations

import math

import numpy as np

import corenn
from corenn import Tensor
from corenn.utils.math_utils import logsumexp
from generative.core.base import GenerativeModel

from .distributions import (
    bernoulli_log_likelihood,
    bernoulli_log_likelihood_np,
    gaussian_kl_standard,
    gaussian_log_likelihood,
    gaussian_log_likelihood_np,
)
from .inputs import check_batch_labels, check_images, finite_stats, interpolate_latents, one_hot
from .networks import Decoder, Encoder

__all__ = ["VAE"]

DECODERS = ("bernoulli", "gaussian")
MIN_PIXEL_LOGVAR = math.log(1e-4)


class VAE(GenerativeModel):
    """Gaussian-latent VAE; images (B, C, H, W), latents (B, latent_dim)."""

    name = "vae"
    conditional = False
    data_range = "binary"  # per instance: "unit" with the Gaussian decoder

    @classmethod
    def default_hparams(cls) -> dict:
        return {"arch": "mlp", "latent_dim": 40, "hidden_sizes": [300, 300], "activation": "tanh",
                "conv_channels": [32, 64], "decoder": "bernoulli", "decoder_variance": "learned",
                "lr": 1e-3, "kl_warmup_steps": 0}

    def __init__(self, image_shape: tuple = (1, 28, 28), num_classes: int = 10, **hparams):
        super().__init__(image_shape, num_classes, **hparams)
        hp = self.hparams
        self.latent_dim = int(hp["latent_dim"])
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {hp['latent_dim']}")
        hidden = [int(h) for h in hp["hidden_sizes"]]
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden_sizes must be positive ints, got {hp['hidden_sizes']}")
        if hp["decoder"] not in DECODERS:
            raise ValueError(f"decoder must be one of {list(DECODERS)}, got {hp['decoder']!r}")
        if not float(hp["lr"]) > 0:
            raise ValueError(f"lr must be > 0, got {hp['lr']}")
        if int(hp["kl_warmup_steps"]) < 0:
            raise ValueError(f"kl_warmup_steps must be >= 0, got {hp['kl_warmup_steps']}")
        self.gaussian = hp["decoder"] == "gaussian"
        self.data_range = "unit" if self.gaussian else "binary"
        self.fixed_logvar = None
        if self.gaussian and hp["decoder_variance"] != "learned":
            try:
                variance = float(hp["decoder_variance"])
            except (TypeError, ValueError):
                variance = -1.0
            if not variance > 0:
                raise ValueError(f"decoder_variance must be 'learned' or a positive number, "
                                 f"got {hp['decoder_variance']!r}")
            self.fixed_logvar = np.float32(math.log(variance))
        cond = self.num_classes if self.conditional else 0
        net = {"arch": hp["arch"], "activation": hp["activation"], "cond_dim": cond,
               "conv_channels": list(hp["conv_channels"])}
        self.encoder = Encoder(self.image_shape, 2 * self.latent_dim, hidden, **net)
        self.decoder = Decoder(self.image_shape, self.latent_dim, hidden[::-1], **net)
        self._networks = {"encoder": self.encoder, "decoder": self.decoder}
        if self.gaussian and self.fixed_logvar is None:
            self.pixel_logvar = corenn.nn.Module()
            self.pixel_logvar.value = corenn.nn.Parameter(np.full(self.image_shape, math.log(0.01), np.float32))
            self._networks["pixel_logvar"] = self.pixel_logvar
        params = [p for m in self._networks.values() for p in m.parameters()]
        self.optimizer = corenn.optim.Adam(params, lr=float(hp["lr"]))
        self.step = 0

    # ---- the interface ------------------------------------------------------------------------------------------
    def modules(self) -> dict:
        return dict(self._networks)

    def optimizers(self) -> dict:
        return {"optimizer": self.optimizer}

    def extra_state(self) -> dict:
        return {"step": self.step}

    def load_extra_state(self, state: dict) -> None:
        if set(state) != {"step"}:
            raise ValueError(f"{self.name}: extra state must hold exactly 'step', got {sorted(state)}")
        self.step = int(np.asarray(state["step"]))

    def train_step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict:
        x = check_images(x, self.image_shape, self.data_range)
        c = self._condition(y, len(x))
        rng = np.random.default_rng() if rng is None else rng
        self.train()
        mu, logvar = self._posterior(Tensor(x), c)
        eps = rng.standard_normal(mu.shape).astype(np.float32)
        z = mu + (0.5 * logvar).exp() * eps
        log_px = self._log_likelihood(self.decoder(z, c), x)
        kl = gaussian_kl_standard(mu, logvar)
        warmup = int(self.hparams["kl_warmup_steps"])
        kl_weight = min(1.0, self.step / warmup) if warmup else 1.0
        loss = (kl_weight * kl - log_px).mean()
        stats = finite_stats({"loss": loss.item(), "elbo": (log_px - kl).mean().item(),
                              "recon_nll": -log_px.mean().item(), "kl": kl.mean().item(),
                              "kl_weight": kl_weight}, self.name)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.step += 1
        return stats

    def sample(self, n: int, labels: np.ndarray | None = None, rng: np.random.Generator | None = None) -> np.ndarray:
        """n images decoded from z ~ N(0, I): pixel probabilities (Bernoulli) or means (Gaussian), (n, C, H, W)."""
        labels = self.check_labels(labels, n)
        rng = np.random.default_rng() if rng is None else rng
        return self.decode(rng.standard_normal((n, self.latent_dim)).astype(np.float32), labels)

    # ---- beyond the interface -----------------------------------------------------------------------------------
    def encode(self, x: np.ndarray, labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """q(z|x)'s (mu, logvar), each (B, latent_dim) float32; x (B, C, H, W) in [0, 1]."""
        x = check_images(x, self.image_shape, "unit")
        c = self._condition(labels, len(x))
        self.eval()
        with corenn.no_grad():
            mu, logvar = self._posterior(Tensor(x), c)
        return mu.numpy(), logvar.numpy()

    def decode(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """z (N, latent_dim) -> pixel probabilities (Bernoulli) or means (Gaussian), (N, C, H, W) in [0, 1]."""
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim or not np.isfinite(z).all():
            raise ValueError(f"z must be finite with shape (N, {self.latent_dim}), got {z.shape}")
        c = self._condition(labels, len(z))
        self.eval()
        with corenn.no_grad():
            out = self.decoder(Tensor(z), c).numpy()
        return corenn.utils.math_utils.sigmoid(out).astype(np.float32)

    def elbo(self, x: np.ndarray, rng: np.random.Generator | None = None, labels: np.ndarray | None = None,
             samples: int = 1, analytic_kl: bool = True) -> np.ndarray:
        """Per-example ELBO (B,) float64 in nats from ``samples`` draws of z: E[log p(x|z)] - KL (closed form) or,
        with ``analytic_kl=False``, the Monte Carlo E[log p(x|z) + log p(z) - log q(z|x)]."""
        log_px, log_pz, log_qz, kl = self._importance_terms(x, labels, samples, rng)
        if analytic_kl:
            return log_px.mean(axis=0) - kl
        return (log_px + log_pz - log_qz).mean(axis=0)

    def log_likelihood_bound(self, x: np.ndarray, k: int = 1000, rng: np.random.Generator | None = None,
                             labels: np.ndarray | None = None, samples_per_pass: int | None = None) -> np.ndarray:
        """The IWAE bound L_k(x) (B,) float64 in nats (the NLL bound is its negative): log-mean-exp of k
        importance weights, computed in float64 from batches of ``samples_per_pass`` draws without gradients."""
        log_px, log_pz, log_qz, _ = self._importance_terms(x, labels, k, rng, samples_per_pass)
        return logsumexp(log_px + log_pz - log_qz, axis=0) - math.log(k)

    def interpolation_grid(self, rows: int = 8, steps: int = 10, rng: np.random.Generator | None = None,
                           endpoints: tuple | None = None, labels: np.ndarray | None = None) -> np.ndarray:
        """(rows * steps, C, H, W) in [0, 1]: row r decodes the straight latent line from a start to an end code.
        With ``endpoints=(x_start, x_end)`` (each (rows, C, H, W) in [0, 1]) the codes are their posterior
        means; without, both ends are drawn from the prior N(0, I). A CVAE takes one label per row (row r shows
        class r mod num_classes when ``labels`` is None)."""
        if self.conditional and labels is None:
            labels = np.arange(rows, dtype=np.int64) % self.num_classes
        labels = self.check_labels(labels, rows)
        if endpoints is None:
            rng = np.random.default_rng() if rng is None else rng
            z0, z1 = rng.standard_normal((2, rows, self.latent_dim)).astype(np.float32)
        else:
            if len(endpoints) != 2:
                raise ValueError("endpoints must be a pair (x_start, x_end)")
            z0, _ = self.encode(check_images(endpoints[0], self.image_shape, "unit", "x_start"), labels)
            z1, _ = self.encode(check_images(endpoints[1], self.image_shape, "unit", "x_end"), labels)
            if len(z0) != rows or len(z1) != rows:
                raise ValueError(f"endpoints must hold {rows} images each, got {len(z0)} and {len(z1)}")
        row_labels = None if labels is None else np.repeat(labels, steps)
        return self.decode(interpolate_latents(z0, z1, steps), row_labels)

    # ---- internals ----------------------------------------------------------------------------------------------
    def _condition(self, y, batch: int):
        """The decoder/encoder condition: one-hot labels (B, num_classes) for a conditional model, else None."""
        if not self.conditional:
            return None
        return Tensor(one_hot(check_batch_labels(y, batch, self.num_classes), self.num_classes))

    def _posterior(self, x: Tensor, c) -> tuple[Tensor, Tensor]:
        h = self.encoder(x, c)
        return h[:, :self.latent_dim], h[:, self.latent_dim:]

    def _pixel_logvar(self):
        if self.fixed_logvar is not None:
            return self.fixed_logvar
        return corenn.clip(self.pixel_logvar.value, MIN_PIXEL_LOGVAR, None)

    def _log_likelihood(self, out: Tensor, x: np.ndarray) -> Tensor:
        """log p(x|z) per example (B,) from the decoder's output."""
        if self.gaussian:
            return gaussian_log_likelihood(out.sigmoid(), self._pixel_logvar(), x)
        return bernoulli_log_likelihood(out, x)

    def _importance_terms(self, x, labels, k: int, rng, samples_per_pass: int | None = None):
        """float64 (k, B) arrays log p(x|z_j), log p(z_j), log q(z_j|x) for z_j ~ q(z|x), and KL (B,)."""
        x = check_images(x, self.image_shape, self.data_range)
        if int(k) < 1:
            raise ValueError(f"the number of samples k must be >= 1, got {k}")
        k, batch = int(k), len(x)
        rng = np.random.default_rng() if rng is None else rng
        per_pass = samples_per_pass or max(1, 8192 // batch)
        c = self._condition(labels, batch)
        self.eval()
        log_px, log_pz, log_qz = (np.empty((k, batch)) for _ in range(3))
        with corenn.no_grad():
            mu, logvar = (t.numpy() for t in self._posterior(Tensor(x), c))
            std = np.exp(0.5 * logvar)
            for start in range(0, k, per_pass):
                m = min(per_pass, k - start)
                eps = rng.standard_normal((m, batch, self.latent_dim)).astype(np.float32)
                z = mu + std * eps
                cm = None if c is None else Tensor(np.tile(c.numpy(), (m, 1)))
                out = self.decoder(Tensor(z.reshape(m * batch, -1)), cm).numpy().reshape(m, *x.shape)
                xs = np.broadcast_to(x, out.shape).reshape(m * batch, *self.image_shape)
                out = out.reshape(m * batch, *self.image_shape)
                if self.gaussian:
                    mean = corenn.utils.math_utils.sigmoid(out)
                    lp = gaussian_log_likelihood_np(mean, np.asarray(self._pixel_logvar()), xs)
                else:
                    lp = bernoulli_log_likelihood_np(out, xs)
                z64, eps64 = z.astype(np.float64), eps.astype(np.float64)
                log_px[start:start + m] = lp.reshape(m, batch)
                log_pz[start:start + m] = -0.5 * (z64 * z64 + math.log(2 * math.pi)).sum(-1)
                log_qz[start:start + m] = -0.5 * (eps64 * eps64 + math.log(2 * math.pi) + logvar).sum(-1)
        mu64, lv64 = mu.astype(np.float64), logvar.astype(np.float64)
        kl = 0.5 * (mu64 * mu64 + np.exp(lv64) - 1.0 - lv64).sum(-1)
        return log_px, log_pz, log_qz, kl

