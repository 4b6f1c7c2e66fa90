"""Generalized State-Dependent Exploration, gSDE (Raffin et al. 2021, arXiv:2005.05719), SB3's
StateDependentNoiseDistribution on corenn Tensors.

The exploration noise is a linear function of the policy's latent features z (B, L), with a weight
matrix theta (L, A) drawn from N(0, sigma^2) and kept fixed between `sample_weights` calls:

    a = mu(s) + z(s) @ theta,            theta_ij ~ N(0, sigma_ij^2)
    Var[a_j | s] = sum_i z_i^2 sigma_ij^2 + epsilon      (z detached: learn_features=False)
    log pi(a|s) = sum_j [-(a_j - mu_j)^2 / (2 Var_j) - 0.5 log Var_j] - A log sqrt(2 pi)
    H = sum_j [0.5 + log sqrt(2 pi) + 0.5 log Var_j]

sigma = exp(log_std) (or expln(log_std) with use_expln); log_std is (L, A) with full_std, else (L, 1)
shared by the action dimensions. log_prob and entropy are differentiable in mu and log_std; the
exploration matrices are ndarrays drawn from a numpy Generator passed in (seeded runs reproduce).
"""

from __future__ import annotations

import math

import numpy as np

import corenn
from corenn import nn
from corenn.creation import generator

from .distributions import Distribution

__all__ = ["StateDependentNoiseDistribution"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _data(x) -> np.ndarray:
    return x.data if isinstance(x, corenn.Tensor) else np.asarray(x)


class StateDependentNoiseDistribution(Distribution):
    """gSDE for a Box action space of `action_dim` dimensions (SB3's arguments; squash_output=True is not
    implemented: SB3's on-policy algorithms use squash_output=False)."""

    def __init__(self, action_dim: int, full_std: bool = True, use_expln: bool = False, squash_output: bool = False,
                 learn_features: bool = False, epsilon: float = 1e-6):
        if squash_output:
            raise NotImplementedError("StateDependentNoiseDistribution(squash_output=True) (tanh-squashed gSDE) is "
                                      "not implemented; SB3's on-policy algorithms use squash_output=False")
        super().__init__(action_dim)
        self.full_std, self.use_expln = bool(full_std), bool(use_expln)
        self.learn_features, self.epsilon = bool(learn_features), float(epsilon)
        self.latent_sde_dim: int | None = None
        self.exploration_mat: np.ndarray | None = None  # (L, A): used for a single observation
        self.exploration_matrices: np.ndarray | None = None  # (n_envs, L, A): one per env

    # ------------------------------------------------------------------ parameters and noise
    def proba_distribution_net(self, latent_dim: int, log_std_init: float = -2.0, latent_sde_dim: int | None = None,
                               rng: np.random.Generator | None = None):
        """-> (mean_actions Linear(latent_dim, A), log_std Parameter (L, A) with full_std else (L, 1)), and a first
        exploration matrix drawn from `rng` (corenn's seeded generator when None)."""
        mean_actions = nn.Linear(latent_dim, self.action_dim)
        self.latent_sde_dim = int(latent_dim if latent_sde_dim is None else latent_sde_dim)
        cols = self.action_dim if self.full_std else 1
        log_std = nn.Parameter(np.full((self.latent_sde_dim, cols), log_std_init, np.float32))
        self.sample_weights(log_std, rng=rng)
        return mean_actions, log_std

    def get_std(self, log_std) -> corenn.Tensor:
        """sigma (L, A) from log_std (L, A) or (L, 1): exp, or expln (exp below 0, log(1 + x) + 1 above)."""
        log_std = corenn.as_tensor(log_std)
        if self.use_expln:
            above = _data(log_std) > 0
            below_part = log_std.exp() * (~above).astype(log_std.dtype)
            safe = log_std * above.astype(log_std.dtype) + self.epsilon  # no log of a negative number
            std = below_part + ((safe + 1.0).log() + 1.0) * above.astype(log_std.dtype)
        else:
            std = log_std.exp()
        if self.full_std:
            return std
        if self.latent_sde_dim is None:
            raise RuntimeError("call proba_distribution_net before get_std (latent_sde_dim is unknown)")
        return std * np.ones((self.latent_sde_dim, self.action_dim), std.dtype)

    def sample_weights(self, log_std, batch_size: int = 1, rng: np.random.Generator | None = None) -> None:
        """New exploration matrices theta ~ N(0, sigma^2): `exploration_mat` (L, A) and `exploration_matrices`
        (batch_size, L, A), one per env, drawn from `rng` (corenn's seeded generator when None)."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"sample_weights needs batch_size >= 1 (the number of envs), got {batch_size!r}")
        rng = generator() if rng is None else rng
        with corenn.no_grad():
            std = self.get_std(log_std).data.astype(np.float32)
        if not np.isfinite(std).all():
            raise ValueError("gSDE's log_std holds NaN or inf: cannot sample exploration matrices")
        self.exploration_mat = rng.standard_normal(std.shape, dtype=np.float32) * std
        self.exploration_matrices = rng.standard_normal((int(batch_size), *std.shape), dtype=np.float32) * std

    # ------------------------------------------------------------------ the distribution
    def proba_distribution(self, mean_actions: corenn.Tensor, log_std, latent_sde) -> StateDependentNoiseDistribution:
        """mean_actions (B, A), log_std (L, A) or (L, 1), latent_sde (B, L) (detached unless learn_features)."""
        mean_actions = corenn.as_tensor(mean_actions)
        latent = corenn.as_tensor(latent_sde)
        if latent.ndim != 2 or mean_actions.ndim != 2 or latent.shape[0] != mean_actions.shape[0]:
            raise ValueError(f"gSDE needs mean_actions (B, A) and latent_sde (B, L) with the same B, got "
                             f"{tuple(mean_actions.shape)} and {tuple(latent.shape)}")
        if not self.learn_features:
            latent = latent.detach()
        self.mean = mean_actions
        self._latent_sde = latent
        std = self.get_std(log_std)
        self.variance = (latent * latent).matmul(std * std) + self.epsilon  # (B, A)
        return self

    def log_prob(self, actions) -> corenn.Tensor:
        """actions (B, A) -> (B,) Tensor: sum_j [-(a_j - mu_j)^2 / (2 Var_j) - 0.5 log Var_j] - A log sqrt(2 pi)."""
        a = _data(actions).astype(self.mean.dtype, copy=False).reshape(self.mean.shape)
        diff = self.mean - a
        per_dim = diff * diff / (self.variance * 2.0) + self.variance.log() * 0.5
        return -per_dim.sum(-1) - self.action_dim * _LOG_SQRT_2PI

    def entropy(self) -> corenn.Tensor:
        """(B,) = sum_j [0.5 + log sqrt(2 pi) + 0.5 log Var_j]."""
        return (self.variance.log() * 0.5).sum(-1) + self.action_dim * (0.5 + _LOG_SQRT_2PI)

    def get_noise(self, latent_sde) -> np.ndarray:
        """z @ theta (B, A): one matrix for all rows, or row i with matrix i when B == len(exploration_matrices)."""
        z = _data(latent_sde)
        if len(z) == 1 or len(z) != len(self.exploration_matrices):
            return z @ self.exploration_mat
        return np.einsum("bl,bla->ba", z, self.exploration_matrices)

    def sample(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """mu + z @ theta (B, A) float32; `rng` is unused: the noise is the current exploration matrix."""
        return (self.mean.data + self.get_noise(self._latent_sde)).astype(np.float32)

    def mode(self) -> np.ndarray:
        return self.mean.data.astype(np.float32, copy=True)

    def actions_from_params(self, mean_actions, log_std, latent_sde, deterministic: bool = False,
                            rng=None) -> np.ndarray:
        self.proba_distribution(mean_actions, log_std, latent_sde)
        return self.get_actions(deterministic, rng)

    def log_prob_from_params(self, mean_actions, log_std, latent_sde):
        """-> (actions ndarray (B, A), log_prob Tensor (B,))."""
        actions = self.actions_from_params(mean_actions, log_std, latent_sde)
        return actions, self.log_prob(actions)

    def act_numpy(self, mean: np.ndarray, latent_sde: np.ndarray, log_std: np.ndarray, deterministic: bool = False):
        """No-graph fast path: mean (B, A), latent (B, L), log_std -> (actions (B, A), log_prob (B,)), the same
        actions as `sample` / `mode`."""
        with corenn.no_grad():
            std = self.get_std(log_std).data
        variance = (latent_sde * latent_sde) @ (std * std) + self.epsilon
        actions = mean.astype(np.float32, copy=True)
        if not deterministic:
            actions += self.get_noise(latent_sde)
        diff = actions - mean
        log_prob = -(diff * diff / (2.0 * variance) + 0.5 * np.log(variance)).sum(-1) - mean.shape[-1] * _LOG_SQRT_2PI
        return actions, log_prob.astype(np.float32)
