"""DDIM sampling (Song et al., 2021) from any trained eps-model and its noise schedule.

On a decreasing subsequence tau_S > ... > tau_1 of the training timesteps (t_prev = -1 after the last, with
alpha_bar_{-1} = 1), one step from x_t to x_{t_prev}:
    x0_hat  = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t)                 (optionally clipped to [-1, 1]; eps is then
                                                                       recomputed from the clipped x0_hat)
    sigma_t = eta sqrt((1 - ab_prev) / (1 - ab_t)) sqrt(1 - ab_t / ab_prev)
    x_prev  = sqrt(ab_prev) x0_hat + sqrt(1 - ab_prev - sigma_t^2) eps + sigma_t z,    z ~ N(0, I)
eta = 0 is the deterministic DDIM; eta = 1 on the full schedule (t_prev = t - 1) is exactly DDPM's ancestral step
(sigma_t^2 = beta_tilde_t and the mean is the posterior mean of q(x_{t-1} | x_t, x0_hat)).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .noise_schedule import NoiseSchedule

__all__ = ["ddim_timesteps", "ddim_step_mean_std", "ddim_sample"]

EpsFn = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (x_t (B, C, H, W), t (B,) int64) -> eps (B, C, H, W)


def ddim_timesteps(timesteps: int, steps: int) -> np.ndarray:
    """``steps`` distinct timesteps evenly spread over [0, T-1], decreasing: the first is T-1, the last 0."""
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or not 1 <= steps <= timesteps:
        raise ValueError(f"DDIM steps must be an int in [1, {timesteps}] (the training timesteps), got {steps!r}")
    if steps == 1:
        return np.array([timesteps - 1], dtype=np.int64)
    return np.round(np.linspace(timesteps - 1, 0, int(steps))).astype(np.int64)


def ddim_step_mean_std(schedule: NoiseSchedule, x_t: np.ndarray, t: int, t_prev: int, eps: np.ndarray,
                       eta: float = 0.0, clip_x0: bool = False) -> tuple[np.ndarray, float, np.ndarray]:
    """Mean (float64, shaped like x_t), standard deviation sigma_t and x0_hat of the step x_t -> x_{t_prev}."""
    if not 0 <= t < schedule.timesteps or not -1 <= t_prev < t:
        raise ValueError(f"a DDIM step needs 0 <= t < {schedule.timesteps} and -1 <= t_prev < t, got t={t}, "
                         f"t_prev={t_prev}")
    if eta < 0:
        raise ValueError(f"DDIM eta must be >= 0, got {eta}")
    ab = schedule.alphas_cumprod[t]
    ab_prev = schedule.alphas_cumprod[t_prev] if t_prev >= 0 else 1.0
    x0 = (x_t - np.sqrt(1.0 - ab) * eps) / np.sqrt(ab)
    if clip_x0:
        x0 = np.clip(x0, -1.0, 1.0)
        eps = (x_t - np.sqrt(ab) * x0) / np.sqrt(1.0 - ab)
    sigma = eta * np.sqrt((1.0 - ab_prev) / (1.0 - ab)) * np.sqrt(1.0 - ab / ab_prev)
    mean = np.sqrt(ab_prev) * x0 + np.sqrt(max(1.0 - ab_prev - sigma ** 2, 0.0)) * eps
    return mean, float(sigma), x0


def ddim_sample(eps_fn: EpsFn, schedule: NoiseSchedule, x_T: np.ndarray, steps: int = 50, eta: float = 0.0,
                rng: np.random.Generator | None = None, clip_x0: bool = True) -> np.ndarray:
    """Run DDIM from x_T (B, C, H, W) (pure noise at t = T-1) down to x_0; returns float32 (B, C, H, W).

    ``rng`` draws the z of eta > 0 (required then)."""
    if eta > 0 and rng is None:
        raise ValueError("ddim_sample: eta > 0 draws noise, so it needs an rng")
    taus = ddim_timesteps(schedule.timesteps, steps)
    x = np.asarray(x_T, dtype=np.float32)
    for i, t in enumerate(taus):
        t_prev = int(taus[i + 1]) if i + 1 < len(taus) else -1
        eps = eps_fn(x, np.full(x.shape[0], t, dtype=np.int64))
        mean, sigma, _ = ddim_step_mean_std(schedule, x, int(t), t_prev, eps, eta, clip_x0)
        if sigma > 0:
            mean = mean + sigma * rng.standard_normal(x.shape)
        x = mean.astype(np.float32)
    return x
