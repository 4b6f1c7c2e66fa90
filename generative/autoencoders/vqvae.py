"""VQ-VAE (van den Oord et al. 2017): a conv encoder to an (H/4, W/4) grid of D-dim vectors, each replaced by its
nearest of K codebook vectors, and a conv decoder.

    k_i  = argmin_k ||z_e,i - e_k||^2,   z_q,i = e_{k_i}
    z_st = z_e + sg(z_q - z_e)           (straight-through: forward z_q, gradient to z_e unchanged)
    loss = mean (sigmoid(dec(z_st)) - x)^2 + mean ||sg(z_e) - z_q||^2 + beta * mean ||z_e - sg(z_q)||^2

With ``ema=True`` the codebook term is dropped and the codebook follows moving averages (decay gamma) of the
vectors assigned to each code, with Laplace-smoothed counts (eps):

    N_k <- gamma N_k + (1 - gamma) n_k,   m_k <- gamma m_k + (1 - gamma) sum_{i: k_i = k} z_e,i
    e_k  = m_k / N~_k,   N~_k = (N_k + eps) / (sum_j N_j + K eps) * sum_j N_j

The codebook starts as K encoder vectors of the first training batch (a random codebook far from the encoder's
outputs leaves all but the nearest code unused); N starts at 1 and m at that codebook, so a code nobody picks keeps
its vector until its count decays.

Sampling: there is no learned (PixelCNN) prior. ``sample`` draws each grid position's code independently from
a per-position categorical fitted to the training codes (moving-average counts, decay 0.99, in ``extra_state``),
so samples have plausible local parts but little global coherence: a PixelCNN over codes is the proper prior.
"""
from __future__ import annotations

import numpy as np

import corenn
import corenn.nn.functional as F
from corenn import Tensor, nn
from corenn.utils.math_utils import sigmoid
from generative.core.base import GenerativeModel

from .inputs import check_images, finite_stats

__all__ = ["VQVAE", "VectorQuantizer", "ema_codebook_update"]

PRIOR_DECAY = 0.99


def ema_codebook_update(cluster_size: np.ndarray, embed_sum: np.ndarray, z: np.ndarray, codes: np.ndarray,
                        decay: float, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One EMA step: cluster_size (K,), embed_sum (K, D), z (N, D) encoder vectors, codes (N,) their nearest
    codes -> new (cluster_size, embed_sum, codebook (K, D)) as float64 arrays (the formulas in the module doc)."""
    num_codes = len(cluster_size)
    onehot = np.zeros((len(codes), num_codes))
    onehot[np.arange(len(codes)), codes] = 1.0
    cluster_size = decay * cluster_size + (1.0 - decay) * onehot.sum(0)
    embed_sum = decay * embed_sum + (1.0 - decay) * (onehot.T @ z.astype(np.float64))
    total = cluster_size.sum()
    smoothed = (cluster_size + eps) / (total + num_codes * eps) * total
    return cluster_size, embed_sum, embed_sum / smoothed[:, None]


class VectorQuantizer(nn.Module):
    """Nearest-code quantisation of (B, D, h, w) vectors with a K x D codebook and the straight-through estimator."""

    def __init__(self, num_codes: int, code_dim: int, ema: bool = False, decay: float = 0.99, eps: float = 1e-5):
        super().__init__()
        self.num_codes, self.code_dim, self.ema = int(num_codes), int(code_dim), bool(ema)
        self.decay, self.eps = float(decay), float(eps)
        self.weight = nn.Parameter(corenn.randn(self.num_codes, self.code_dim).numpy(), requires_grad=not self.ema)
        if self.ema:
            self.register_buffer("cluster_size", np.ones(self.num_codes, np.float32))
            self.register_buffer("embed_sum", self.weight.data.copy())

    def initialise_from(self, z_e: np.ndarray, rng: np.random.Generator) -> None:
        """Set the codebook to K encoder vectors drawn from z_e (B, D, h, w) (with replacement if there are fewer),
        so that every code starts where the encoder's outputs are: a random codebook far from them leaves all but
        the nearest code unused."""
        flat = z_e.transpose(0, 2, 3, 1).reshape(-1, self.code_dim)
        pick = rng.choice(len(flat), self.num_codes, replace=len(flat) < self.num_codes)
        np.copyto(self.weight.data, flat[pick], casting="unsafe")
        if self.ema:
            self.cluster_size[...] = 1.0
            np.copyto(self.embed_sum, self.weight.data)

    def nearest_codes(self, flat: np.ndarray) -> np.ndarray:
        """(N, D) vectors -> (N,) indices of their nearest codebook vectors (squared Euclidean distance)."""
        e = self.weight.data
        distances = (flat * flat).sum(1, keepdims=True) - 2.0 * flat @ e.T + (e * e).sum(1)
        return distances.argmin(1)

    def forward(self, z_e: Tensor) -> tuple[Tensor, np.ndarray, Tensor, Tensor]:
        """z_e (B, D, h, w) -> (z_st (B, D, h, w), codes (B, h, w), codebook loss, commitment loss).
        In training mode with ``ema`` the codebook is updated from this batch (after quantising with the old one)."""
        b, d, h, w = z_e.shape
        if d != self.code_dim:
            raise ValueError(f"VectorQuantizer: expected {self.code_dim} channels, got z_e of shape {z_e.shape}")
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, d)
        codes = self.nearest_codes(flat.numpy())
        z_q = self.weight[codes]
        codebook_loss = ((flat.detach() - z_q) ** 2).mean()
        commitment_loss = ((flat - z_q.detach()) ** 2).mean()
        z_st = flat + (z_q - flat).detach()
        if self.ema and self.training:
            size, total, book = ema_codebook_update(self.cluster_size, self.embed_sum, flat.numpy(), codes,
                                                    self.decay, self.eps)
            np.copyto(self.cluster_size, size, casting="unsafe")
            np.copyto(self.embed_sum, total, casting="unsafe")
            np.copyto(self.weight.data, book, casting="unsafe")
        return z_st.reshape(b, h, w, d).permute(0, 3, 1, 2), codes.reshape(b, h, w), codebook_loss, commitment_loss

    def extra_repr(self) -> str:
        return f"num_codes={self.num_codes}, code_dim={self.code_dim}, ema={self.ema}"


class VQVAE(GenerativeModel):
    """x (B, C, H, W) in [0, 1] -> codes (B, H/4, W/4) in [0, num_codes) -> reconstruction (B, C, H, W)."""

    name = "vqvae"
    conditional = False
    data_range = "unit"

    @classmethod
    def default_hparams(cls) -> dict:
        return {"num_codes": 128, "code_dim": 16, "channels": 64, "beta": 0.25, "ema": True, "ema_decay": 0.99,
                "ema_eps": 1e-5, "lr": 1e-3}

    def __init__(self, image_shape: tuple = (1, 28, 28), num_classes: int = 10, **hparams):
        super().__init__(image_shape, num_classes, **hparams)
        hp = self.hparams
        c, h, w = self.image_shape
        if h % 4 or w % 4:
            raise ValueError(f"VQVAE halves the image twice: H and W must be divisible by 4, got {self.image_shape}")
        for key in ("num_codes", "code_dim", "channels"):
            if int(hp[key]) < 1:
                raise ValueError(f"{key} must be >= 1, got {hp[key]}")
        if not 0.0 < float(hp["ema_decay"]) < 1.0:
            raise ValueError(f"ema_decay must lie in (0, 1), got {hp['ema_decay']}")
        if float(hp["beta"]) < 0 or not float(hp["lr"]) > 0 or not float(hp["ema_eps"]) > 0:
            raise ValueError(f"need beta >= 0, lr > 0, ema_eps > 0; got {hp['beta']}, {hp['lr']}, {hp['ema_eps']}")
        ch, dim = int(hp["channels"]), int(hp["code_dim"])
        self.grid = (h // 4, w // 4)
        self.encoder = nn.Sequential(nn.Conv2d(c, ch, 4, stride=2, padding=1), nn.ReLU(),
                                     nn.Conv2d(ch, ch, 4, stride=2, padding=1), nn.ReLU(),
                                     nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, dim, 1))
        self.quantizer = VectorQuantizer(hp["num_codes"], dim, bool(hp["ema"]), hp["ema_decay"], hp["ema_eps"])
        self.decoder = nn.Sequential(nn.Conv2d(dim, ch, 3, padding=1), nn.ReLU(),
                                     nn.ConvTranspose2d(ch, ch, 4, stride=2, padding=1), nn.ReLU(),
                                     nn.ConvTranspose2d(ch, c, 4, stride=2, padding=1))
        params = [p for m in self.modules().values() for p in m.parameters() if p.requires_grad]
        self.optimizer = corenn.optim.Adam(params, lr=float(hp["lr"]))
        self.step = 0
        self.code_counts = np.zeros((*self.grid, self.quantizer.num_codes), np.float64)

    # ---- the interface ------------------------------------------------------------------------------------------
    def modules(self) -> dict:
        return {"encoder": self.encoder, "quantizer": self.quantizer, "decoder": self.decoder}

    def optimizers(self) -> dict:
        return {"optimizer": self.optimizer}

    def extra_state(self) -> dict:
        return {"step": self.step, "code_counts": self.code_counts.copy()}

    def load_extra_state(self, state: dict) -> None:
        if set(state) != {"step", "code_counts"}:
            raise ValueError(f"{self.name}: extra state must hold step and code_counts, got {sorted(state)}")
        counts = np.asarray(state["code_counts"], np.float64)
        if counts.shape != self.code_counts.shape:
            raise ValueError(f"{self.name}: code_counts must have shape {self.code_counts.shape}, got {counts.shape}")
        self.step, self.code_counts = int(np.asarray(state["step"])), counts.copy()

    def train_step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict:
        x = check_images(x, self.image_shape, self.data_range)
        self.train()
        z_e = self.encoder(Tensor(x))
        if self.step == 0:
            self.quantizer.initialise_from(z_e.numpy(), np.random.default_rng() if rng is None else rng)
        z_st, codes, codebook_loss, commitment_loss = self.quantizer(z_e)
        recon = F.mse_loss(self.decoder(z_st).sigmoid(), x)
        loss = recon + float(self.hparams["beta"]) * commitment_loss
        if not self.quantizer.ema:
            loss = loss + codebook_loss
        usage = np.bincount(codes.ravel(), minlength=self.quantizer.num_codes) / codes.size
        nonzero = usage[usage > 0]
        stats = finite_stats({"loss": loss.item(), "recon_mse": recon.item(), "codebook": codebook_loss.item(),
                              "commitment": commitment_loss.item(),
                              "perplexity": np.exp(-(nonzero * np.log(nonzero)).sum()),
                              "codes_used": len(nonzero) / self.quantizer.num_codes}, self.name)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self._update_prior(codes)
        self.step += 1
        return stats

    def sample(self, n: int, labels: np.ndarray | None = None, rng: np.random.Generator | None = None) -> np.ndarray:
        """n images decoded from codes drawn independently per position from the fitted categorical prior
        (uniform before any training), (n, C, H, W) in [0, 1]."""
        self.check_labels(labels, n)
        rng = np.random.default_rng() if rng is None else rng
        probs = self.code_counts + 1e-3
        cdf = np.cumsum(probs / probs.sum(-1, keepdims=True), axis=-1)
        u = rng.random((n, *self.grid, 1))
        codes = np.minimum((u > cdf).sum(-1), self.quantizer.num_codes - 1)
        return self.decode_codes(codes)

    # ---- beyond the interface -----------------------------------------------------------------------------------
    def encode(self, x: np.ndarray) -> np.ndarray:
        """x (B, C, H, W) in [0, 1] -> codes (B, H/4, W/4) int64."""
        x = check_images(x, self.image_shape, "unit")
        self.eval()
        with corenn.no_grad():
            z_e = self.encoder(Tensor(x))
            flat = z_e.numpy().transpose(0, 2, 3, 1).reshape(-1, z_e.shape[1])
            return self.quantizer.nearest_codes(flat).reshape(len(x), *self.grid)

    def decode_codes(self, codes: np.ndarray) -> np.ndarray:
        """codes (N, H/4, W/4) ints -> images (N, C, H, W) in [0, 1]."""
        codes = np.asarray(codes)
        if codes.ndim != 3 or codes.shape[1:] != self.grid or codes.dtype.kind not in "iu":
            raise ValueError(f"codes must be (N, {self.grid[0]}, {self.grid[1]}) integers, got {codes.shape} "
                             f"{codes.dtype}")
        if codes.size and (codes.min() < 0 or codes.max() >= self.quantizer.num_codes):
            raise ValueError(f"codes must lie in [0, {self.quantizer.num_codes}), got {codes.min()}..{codes.max()}")
        self.eval()
        z_q = self.quantizer.weight.data[codes].transpose(0, 3, 1, 2)
        with corenn.no_grad():
            return sigmoid(self.decoder(Tensor(np.ascontiguousarray(z_q))).numpy()).astype(np.float32)

    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        return self.decode_codes(self.encode(x))

    def _update_prior(self, codes: np.ndarray) -> None:
        """Moving-average per-position code counts: counts <- 0.99 counts + this batch's counts."""
        k = self.quantizer.num_codes
        positions = np.arange(self.grid[0] * self.grid[1]) * k
        batch_counts = np.bincount((positions + codes.reshape(len(codes), -1)).ravel(),
                                   minlength=positions.size * k).reshape(*self.grid, k)
        self.code_counts *= PRIOR_DECAY
        self.code_counts += batch_counts
