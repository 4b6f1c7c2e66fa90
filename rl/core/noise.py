"""Action noise for off-policy exploration (DDPG, TD3): Gaussian and Ornstein-Uhlenbeck.

Same names and semantics as Stable-Baselines3. Each noise object owns a NumPy Generator; pass
`rng` (a Generator or an int seed) for reproducible noise. `noise_to_json` / `noise_from_json`
describe a noise in checkpoints.
"""

from __future__ import annotations

import copy

import numpy as np

__all__ = ["ActionNoise", "NormalActionNoise", "OrnsteinUhlenbeckActionNoise", "VectorizedActionNoise", "noise_to_json",
           "noise_from_json"]


def _as_rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _as_array(value, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return arr


class ActionNoise:
    """Base class: `noise()` returns an array shaped like `mean`; `reset()` starts a new episode."""

    def reset(self) -> None:
        pass

    def __call__(self) -> np.ndarray:
        raise TypeError(f"{type(self).__name__} must define __call__")


class NormalActionNoise(ActionNoise):
    """i.i.d. Gaussian noise N(mean, sigma^2), shape = mean.shape (the action shape)."""

    def __init__(self, mean, sigma, dtype=np.float32, rng=None):
        self._mu = _as_array(mean, "mean")
        self._sigma = _as_array(sigma, "sigma")
        if np.any(self._sigma < 0):
            raise ValueError(f"sigma must be non-negative, got {sigma!r}")
        self._mu, self._sigma = np.broadcast_arrays(self._mu, self._sigma)
        self._dtype = dtype
        self._rng = _as_rng(rng)

    def __call__(self) -> np.ndarray:
        return self._rng.normal(self._mu, self._sigma).astype(self._dtype)

    def __repr__(self) -> str:
        return f"NormalActionNoise(mu={self._mu}, sigma={self._sigma})"


class OrnsteinUhlenbeckActionNoise(ActionNoise):
    """Temporally correlated noise: x += theta * (mu - x) * dt + sigma * sqrt(dt) * N(0, 1)."""

    def __init__(self, mean, sigma, theta: float = 0.15, dt: float = 1e-2, initial_noise=None,
                 dtype=np.float32, rng=None):
        self._mu = _as_array(mean, "mean")
        self._sigma = np.broadcast_to(_as_array(sigma, "sigma"), self._mu.shape)
        if np.any(self._sigma < 0):
            raise ValueError(f"sigma must be non-negative, got {sigma!r}")
        self._theta = float(theta)
        self._dt = float(dt)
        self._initial_noise = None if initial_noise is None else _as_array(initial_noise, "initial_noise")
        self._dtype = dtype
        self._rng = _as_rng(rng)
        self.reset()

    def __call__(self) -> np.ndarray:
        noise = (self.noise_prev + self._theta * (self._mu - self.noise_prev) * self._dt
                 + self._sigma * np.sqrt(self._dt) * self._rng.normal(size=self._mu.shape))
        self.noise_prev = noise
        return noise.astype(self._dtype)

    def reset(self) -> None:
        self.noise_prev = (np.zeros_like(self._mu) if self._initial_noise is None
                           else np.broadcast_to(self._initial_noise, self._mu.shape).copy())

    def __repr__(self) -> str:
        return f"OrnsteinUhlenbeckActionNoise(mu={self._mu}, sigma={self._sigma})"


class VectorizedActionNoise(ActionNoise):
    """One independent copy of `base_noise` per sub-env; call returns shape (n_envs, *action_shape)."""

    def __init__(self, base_noise: ActionNoise, n_envs: int):
        if int(n_envs) <= 0:
            raise ValueError(f"n_envs must be positive, got {n_envs}")
        if not isinstance(base_noise, ActionNoise):
            raise TypeError(f"base_noise must be an ActionNoise, got {type(base_noise).__name__}")
        self.base_noise = base_noise
        self.n_envs = int(n_envs)
        self.noises = [copy.deepcopy(base_noise) for _ in range(self.n_envs)]
        parent = getattr(base_noise, "_rng", np.random.default_rng())
        for noise, seed in zip(self.noises, parent.integers(0, 2**31 - 1, size=self.n_envs)):
            noise._rng = np.random.default_rng(int(seed))

    def reset(self, indices=None) -> None:
        """Reset all copies, or only those at `indices` (e.g. the sub-envs whose episode ended)."""
        if indices is None:
            indices = range(self.n_envs)
        elif np.asarray(indices).dtype == bool:
            indices = np.flatnonzero(indices)
        for i in indices:
            self.noises[int(i)].reset()

    def __call__(self) -> np.ndarray:
        return np.stack([noise() for noise in self.noises])


def noise_to_json(noise) -> dict | None:
    """JSON description of NormalActionNoise / OrnsteinUhlenbeckActionNoise (vectorised or not)."""
    if noise is None:
        return None
    base = noise.base_noise if isinstance(noise, VectorizedActionNoise) else noise
    desc = {"mean": np.asarray(base._mu).tolist(), "sigma": np.asarray(base._sigma).tolist()}
    if isinstance(base, OrnsteinUhlenbeckActionNoise):
        return dict(desc, type="ornstein-uhlenbeck", theta=base._theta, dt=base._dt)
    if isinstance(base, NormalActionNoise):
        return dict(desc, type="normal")
    raise ValueError(f"cannot save action noise of type {type(base).__name__}")


def noise_from_json(desc: dict, rng=None) -> ActionNoise:
    """The noise `noise_to_json` described, drawing from `rng`."""
    kind = desc.get("type")
    if kind == "normal":
        return NormalActionNoise(desc["mean"], desc["sigma"], rng=rng)
    if kind == "ornstein-uhlenbeck":
        return OrnsteinUhlenbeckActionNoise(desc["mean"], desc["sigma"], theta=desc["theta"], dt=desc["dt"], rng=rng)
    raise ValueError(f"unknown action noise description {desc!r}")
