"""Noise schedules of a Gaussian diffusion and the closed forms built on them (float64 tables of length T).

Forward process (Ho et al., 2020), t = 0 .. T-1 (the paper's 1 .. T):
    q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I),   alpha_t = 1 - beta_t,   ab_t = prod_{s<=t} alpha_s
    q(x_t | x_0)     = N(sqrt(ab_t) x_0, (1 - ab_t) I)                 (ab = alpha_bar, ``alphas_cumprod``)
Posterior (the reverse step given x_0), with ab_{-1} = 1:
    q(x_{t-1} | x_t, x_0) = N(c1_t x_0 + c2_t x_t, beta_tilde_t I)
    c1_t = beta_t sqrt(ab_{t-1}) / (1 - ab_t),   c2_t = (1 - ab_{t-1}) sqrt(alpha_t) / (1 - ab_t)
    beta_tilde_t = beta_t (1 - ab_{t-1}) / (1 - ab_t)          (0 at t = 0)
Schedules: "linear" (Ho et al.: beta from 1e-4 to 0.02 over T = 1000) and "cosine" (Nichol & Dhariwal, 2021:
alpha_bar(t) = f(t) / f(0), f(t) = cos^2(((t / T) + s) / (1 + s) * pi / 2), s = 0.008, betas clipped at 0.999).
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["NoiseSchedule", "linear_betas", "cosine_betas", "make_schedule", "SCHEDULES"]

SCHEDULES = ("linear", "cosine")


def linear_betas(timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> np.ndarray:
    """(T,) float64 betas rising linearly from beta_start to beta_end (Ho et al. use T = 1000)."""
    if not 0.0 < beta_start <= beta_end < 1.0:
        raise ValueError(f"linear_betas: need 0 < beta_start <= beta_end < 1, got {beta_start}, {beta_end}")
    return np.linspace(beta_start, beta_end, _check_timesteps(timesteps), dtype=np.float64)


def cosine_betas(timesteps: int, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """(T,) float64 betas of the cosine schedule: beta_t = min(1 - alpha_bar(t+1) / alpha_bar(t), max_beta)."""
    T = _check_timesteps(timesteps)
    steps = np.arange(T + 1, dtype=np.float64) / T
    f = np.cos((steps + s) / (1.0 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    return np.minimum(1.0 - alpha_bar[1:] / alpha_bar[:-1], max_beta)


def _check_timesteps(timesteps) -> int:
    if not isinstance(timesteps, (int, np.integer)) or isinstance(timesteps, bool) or timesteps < 1:
        raise ValueError(f"the number of diffusion timesteps must be a positive int, got {timesteps!r}")
    return int(timesteps)


class NoiseSchedule:
    """Every table a DDPM/DDIM step reads, from a (T,) array of betas in (0, 1). All tables are float64 (T,).

    Functions of (x_0 or x_t, t) take t as an int array (B,) of timesteps in [0, T) and broadcast the
    coefficients over the trailing image axes; they return float64 arrays.
    """

    def __init__(self, betas: np.ndarray):
        betas = np.asarray(betas, dtype=np.float64)
        if betas.ndim != 1 or betas.size == 0 or not np.all((betas > 0) & (betas < 1)):
            raise ValueError(f"betas must be a non-empty 1-D array in (0, 1), got shape {betas.shape}")
        self.timesteps = betas.size
        self.betas = betas
        self.alphas = 1.0 - betas
        self.alphas_cumprod = np.cumprod(self.alphas)                      # alpha_bar_t
        self.alphas_cumprod_prev = np.append(1.0, self.alphas_cumprod[:-1])  # alpha_bar_{t-1}
        self.sqrt_alphas_cumprod = np.sqrt(self.alphas_cumprod)
        self.sqrt_one_minus_alphas_cumprod = np.sqrt(1.0 - self.alphas_cumprod)
        ab, ab_prev = self.alphas_cumprod, self.alphas_cumprod_prev
        self.posterior_variance = betas * (1.0 - ab_prev) / (1.0 - ab)
        # beta_tilde_0 = 0: its log is taken from t = 1 (as Ho et al.'s code), only used where the variance is > 0
        self.posterior_log_variance_clipped = np.log(np.append(self.posterior_variance[1], self.posterior_variance[1:]))
        self.posterior_mean_coef1 = betas * np.sqrt(ab_prev) / (1.0 - ab)
        self.posterior_mean_coef2 = (1.0 - ab_prev) * np.sqrt(self.alphas) / (1.0 - ab)

    def __repr__(self) -> str:
        return f"NoiseSchedule(T={self.timesteps}, beta {self.betas[0]:.3g}..{self.betas[-1]:.3g})"

    def _at(self, table: np.ndarray, t, ndim: int) -> np.ndarray:
        t = np.asarray(t)
        if t.dtype.kind not in "iu":
            raise TypeError(f"timesteps must be integers, got dtype {t.dtype}")
        if t.size and (t.min() < 0 or t.max() >= self.timesteps):
            raise ValueError(f"timesteps must lie in [0, {self.timesteps}), got {t.min()}..{t.max()}")
        return table[t].reshape(t.shape + (1,) * (ndim - t.ndim))

    def q_mean_variance(self, x0: np.ndarray, t) -> tuple[np.ndarray, np.ndarray]:
        """Mean sqrt(alpha_bar_t) x_0 and variance (1 - alpha_bar_t) (broadcast shape) of q(x_t | x_0)."""
        mean = self._at(self.sqrt_alphas_cumprod, t, x0.ndim) * x0
        return mean, self._at(1.0 - self.alphas_cumprod, t, x0.ndim)

    def q_sample(self, x0: np.ndarray, t, noise: np.ndarray) -> np.ndarray:
        """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise, in x0's dtype."""
        if noise.shape != x0.shape:
            raise ValueError(f"q_sample: noise shape {noise.shape} differs from x0 shape {x0.shape}")
        xt = self._at(self.sqrt_alphas_cumprod, t, x0.ndim) * x0 \
            + self._at(self.sqrt_one_minus_alphas_cumprod, t, x0.ndim) * noise
        return xt.astype(x0.dtype, copy=False)

    def q_posterior(self, x0: np.ndarray, xt: np.ndarray, t) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean, variance and clipped log-variance of q(x_{t-1} | x_t, x_0)."""
        mean = self._at(self.posterior_mean_coef1, t, xt.ndim) * x0 \
            + self._at(self.posterior_mean_coef2, t, xt.ndim) * xt
        return (mean, self._at(self.posterior_variance, t, xt.ndim),
                self._at(self.posterior_log_variance_clipped, t, xt.ndim))

    def predict_x0(self, xt: np.ndarray, t, eps: np.ndarray) -> np.ndarray:
        """x_0 = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)."""
        return (xt - self._at(self.sqrt_one_minus_alphas_cumprod, t, xt.ndim) * eps) \
            / self._at(self.sqrt_alphas_cumprod, t, xt.ndim)

    def predict_eps(self, xt: np.ndarray, t, x0: np.ndarray) -> np.ndarray:
        """eps = (x_t - sqrt(alpha_bar_t) x_0) / sqrt(1 - alpha_bar_t) (the inverse of predict_x0)."""
        return (xt - self._at(self.sqrt_alphas_cumprod, t, xt.ndim) * x0) \
            / self._at(self.sqrt_one_minus_alphas_cumprod, t, xt.ndim)


def make_schedule(name: str, timesteps: int = 1000) -> NoiseSchedule:
    """The schedule named ``name`` ("linear" or "cosine") over ``timesteps`` steps.

    "linear" keeps Ho et al.'s endpoints scaled by 1000 / T (Nichol & Dhariwal's rule), so T = 1000 gives
    exactly 1e-4 .. 0.02 and a shorter chain still ends near pure noise.
    """
    T = _check_timesteps(timesteps)
    if name == "linear":
        scale = 1000.0 / T
        return NoiseSchedule(linear_betas(T, 1e-4 * scale, min(0.02 * scale, 0.999)))
    if name == "cosine":
        return NoiseSchedule(cosine_betas(T))
    raise ValueError(f"unknown noise schedule {name!r}; known: {', '.join(SCHEDULES)}")
