"""Deterministic autoencoder: z = f(x), x_hat = g(z).

    loss = mean_{B,pixels} BCE(sigmoid(g(f(x))), x)        (``loss="bce"``, default)
         = mean_{B,pixels} (sigmoid(g(f(x))) - x)^2        (``loss="mse"``)

An autoencoder has no prior, so ``sample`` decodes z ~ N(m, diag v), a Gaussian fitted to the codes of the
training batches (moving averages of their mean and variance, decay 0.99, kept in ``extra_state``). Its latent
space is not regularised, so these samples are poorer than a VAE's: they are there to show exactly that.
"""
from __future__ import annotations

import numpy as np

import corenn
import corenn.nn.functional as F
from corenn import Tensor
from corenn.utils.math_utils import sigmoid
from generative.core.base import GenerativeModel

from .inputs import check_images, finite_stats, interpolate_latents
from .networks import Decoder, Encoder

__all__ = ["Autoencoder"]

LOSSES = ("bce", "mse")
CODE_STATS_DECAY = 0.99


class Autoencoder(GenerativeModel):
    """x (B, C, H, W) in [0, 1] -> z (B, latent_dim) -> reconstruction (B, C, H, W)."""

    name = "ae"
    conditional = False
    data_range = "unit"

    @classmethod
    def default_hparams(cls) -> dict:
        return {"arch": "mlp", "latent_dim": 32, "hidden_sizes": [300, 300], "activation": "tanh",
                "conv_channels": [32, 64], "loss": "bce", "lr": 1e-3}

    def __init__(self, image_shape: tuple = (1, 28, 28), num_classes: int = 10, **hparams):
        super().__init__(image_shape, num_classes, **hparams)
        hp = self.hparams
        if hp["loss"] not in LOSSES:
            raise ValueError(f"loss must be one of {list(LOSSES)}, got {hp['loss']!r}")
        self.latent_dim = int(hp["latent_dim"])
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {hp['latent_dim']}")
        if not float(hp["lr"]) > 0:
            raise ValueError(f"lr must be > 0, got {hp['lr']}")
        hidden = [int(h) for h in hp["hidden_sizes"]]
        net = {"arch": hp["arch"], "activation": hp["activation"], "conv_channels": list(hp["conv_channels"])}
        self.encoder = Encoder(self.image_shape, self.latent_dim, hidden, **net)
        self.decoder = Decoder(self.image_shape, self.latent_dim, hidden[::-1], **net)
        params = [*self.encoder.parameters(), *self.decoder.parameters()]
        self.optimizer = corenn.optim.Adam(params, lr=float(hp["lr"]))
        self.step = 0
        self.code_mean = np.zeros(self.latent_dim, np.float64)
        self.code_var = np.ones(self.latent_dim, np.float64)

    # ---- the interface ------------------------------------------------------------------------------------------
    def modules(self) -> dict:
        return {"encoder": self.encoder, "decoder": self.decoder}

    def optimizers(self) -> dict:
        return {"optimizer": self.optimizer}

    def extra_state(self) -> dict:
        return {"step": self.step, "code_mean": self.code_mean.copy(), "code_var": self.code_var.copy()}

    def load_extra_state(self, state: dict) -> None:
        if set(state) != {"step", "code_mean", "code_var"}:
            raise ValueError(f"{self.name}: extra state must hold step, code_mean, code_var; got {sorted(state)}")
        mean, var = np.asarray(state["code_mean"], np.float64), np.asarray(state["code_var"], np.float64)
        if mean.shape != (self.latent_dim,) or var.shape != (self.latent_dim,):
            raise ValueError(f"{self.name}: code statistics must have shape ({self.latent_dim},), "
                             f"got {mean.shape} and {var.shape}")
        self.step, self.code_mean, self.code_var = int(np.asarray(state["step"])), mean.copy(), var.copy()

    def train_step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict:
        x = check_images(x, self.image_shape, self.data_range)
        self.train()
        z = self.encoder(Tensor(x))
        out = self.decoder(z)
        if self.hparams["loss"] == "bce":
            loss = F.binary_cross_entropy_with_logits(out, x)
        else:
            loss = F.mse_loss(out.sigmoid(), x)
        stats = finite_stats({"loss": loss.item()}, self.name)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        codes = z.numpy().astype(np.float64)
        first = self.step == 0  # start the averages at the first batch rather than at N(0, I)
        d = 0.0 if first else CODE_STATS_DECAY
        self.code_mean = d * self.code_mean + (1 - d) * codes.mean(0)
        self.code_var = d * self.code_var + (1 - d) * codes.var(0)
        self.step += 1
        return stats

    def sample(self, n: int, labels: np.ndarray | None = None, rng: np.random.Generator | None = None) -> np.ndarray:
        """n images decoded from z ~ N(code mean, diag code variance) of the training codes, (n, C, H, W)."""
        self.check_labels(labels, n)
        return self.decode(self._draw_codes(n, rng))

    # ---- beyond the interface -----------------------------------------------------------------------------------
    def encode(self, x: np.ndarray) -> np.ndarray:
        """x (B, C, H, W) in [0, 1] -> codes (B, latent_dim) float32."""
        x = check_images(x, self.image_shape, "unit")
        self.eval()
        with corenn.no_grad():
            return self.encoder(Tensor(x)).numpy()

    def decode(self, z: np.ndarray) -> np.ndarray:
        """codes (N, latent_dim) -> images (N, C, H, W) in [0, 1]."""
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim or not np.isfinite(z).all():
            raise ValueError(f"z must be finite with shape (N, {self.latent_dim}), got {z.shape}")
        self.eval()
        with corenn.no_grad():
            return sigmoid(self.decoder(Tensor(z)).numpy()).astype(np.float32)

    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        return self.decode(self.encode(x))

    def interpolation_grid(self, rows: int = 8, steps: int = 10, rng: np.random.Generator | None = None,
                           endpoints: tuple | None = None) -> np.ndarray:
        """(rows * steps, C, H, W): row r decodes the straight line between two codes, the codes of
        ``endpoints=(x_start, x_end)`` (each (rows, C, H, W)) or, without, two draws of the fitted Gaussian."""
        if endpoints is None:
            z0, z1 = self._draw_codes(rows, rng), self._draw_codes(rows, rng)
        else:
            if len(endpoints) != 2:
                raise ValueError("endpoints must be a pair (x_start, x_end)")
            z0, z1 = self.encode(endpoints[0]), self.encode(endpoints[1])
            if len(z0) != rows or len(z1) != rows:
                raise ValueError(f"endpoints must hold {rows} images each, got {len(z0)} and {len(z1)}")
        return self.decode(interpolate_latents(z0, z1, steps))

    def _draw_codes(self, n: int, rng: np.random.Generator | None) -> np.ndarray:
        rng = np.random.default_rng() if rng is None else rng
        eps = rng.standard_normal((n, self.latent_dim))
        return (self.code_mean + np.sqrt(self.code_var) * eps).astype(np.float32)
