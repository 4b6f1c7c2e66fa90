"""Action distributions on corenn Tensors (SB3's Distribution shape).

Each distribution class is built once per policy (it knows the action dimension and makes the
head that produces its parameters) and then re-parameterised per batch with
`proba_distribution(...)`. Differentiable quantities (`log_prob`, `entropy`) are Tensors of
shape (B,); sampled actions (`sample`, `mode`) are NumPy arrays, since actions leave the graph.
`rsample` gives a reparameterised Tensor sample for pathwise gradients (used by SAC-style
subclasses such as a squashed Gaussian).
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np

import corenn
from corenn import nn
from corenn.nn import functional as F

__all__ = ["Distribution", "CategoricalDistribution", "DiagGaussianDistribution", "make_proba_distribution"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _as_array(x) -> np.ndarray:
    return x.data if isinstance(x, corenn.Tensor) else np.asarray(x)


def _sample_categorical(probs: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """(B, A) probabilities -> (B,) int64 by inverse CDF, one float32 uniform per row."""
    rng = np.random.default_rng() if rng is None else rng
    cdf = np.cumsum(probs, axis=-1)
    u = rng.random(cdf.shape[:-1] + (1,), dtype=np.float32) * cdf[..., -1:]
    return np.minimum((cdf < u).sum(-1), probs.shape[-1] - 1).astype(np.int64)


class Distribution:
    """Base: subclasses define proba_distribution_net, proba_distribution, log_prob, entropy, sample, mode."""

    def __init__(self, action_dim: int):
        self.action_dim = int(action_dim)

    def get_actions(self, deterministic: bool = False, rng: np.random.Generator | None = None) -> np.ndarray:
        return self.mode() if deterministic else self.sample(rng)

    def log_prob_from_params(self, *args, **kwargs):
        """Same as SB3: returns (actions ndarray, log_prob Tensor (B,))."""
        actions = self.actions_from_params(*args, **kwargs)
        return actions, self.log_prob(actions)

    def actions_from_params(self, *args, deterministic: bool = False, rng=None):
        self.proba_distribution(*args)
        return self.get_actions(deterministic, rng)


class CategoricalDistribution(Distribution):
    """Categorical over `action_dim` classes from logits (B, action_dim)."""

    def proba_distribution_net(self, latent_dim: int) -> nn.Module:
        return nn.Linear(latent_dim, self.action_dim)

    def proba_distribution(self, action_logits: corenn.Tensor) -> CategoricalDistribution:
        self.log_probs = F.log_softmax(action_logits, -1)  # (B, A)
        return self

    @property
    def probs(self) -> np.ndarray:
        return np.exp(self.log_probs.data)

    def log_prob(self, actions) -> corenn.Tensor:
        """actions: (B,) ints -> (B,) Tensor; a one-hot product, so no scatter in the backward pass."""
        a = _as_array(actions).astype(np.int64, copy=False).reshape(-1)
        onehot = np.zeros(self.log_probs.shape, self.log_probs.dtype)
        onehot[np.arange(a.shape[0]), a] = 1.0
        return (self.log_probs * onehot).sum(-1)

    def entropy(self) -> corenn.Tensor:
        return -(self.log_probs.exp() * self.log_probs).sum(-1)

    def sample(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """(B,) int64 by inverse CDF with one uniform per row."""
        return _sample_categorical(self.probs, rng)

    @staticmethod
    def act_numpy(logits: np.ndarray, deterministic: bool = False, rng=None):
        """No-graph fast path: logits (B, A) -> (actions (B,), log_prob (B,)); same draws as `sample`."""
        shifted = logits - logits.max(-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        actions = log_probs.argmax(-1) if deterministic else _sample_categorical(np.exp(log_probs), rng)
        return actions.astype(np.int64), np.take_along_axis(log_probs, actions[:, None], -1)[:, 0]

    def mode(self) -> np.ndarray:
        return self.log_probs.data.argmax(-1).astype(np.int64)


class DiagGaussianDistribution(Distribution):
    """Independent Gaussians: mean from a linear head, state-independent learned log_std (SB3)."""

    def proba_distribution_net(self, latent_dim: int, log_std_init: float = 0.0):
        mean_actions = nn.Linear(latent_dim, self.action_dim)
        log_std = nn.Parameter(np.full(self.action_dim, log_std_init, np.float32))
        return mean_actions, log_std

    def proba_distribution(self, mean_actions: corenn.Tensor, log_std: corenn.Tensor) -> DiagGaussianDistribution:
        """mean_actions: (B, D); log_std: (D,) or (B, D)."""
        self.mean = mean_actions
        self.log_std = log_std
        self.std_data = np.exp(_as_array(log_std))
        return self

    def log_prob(self, actions) -> corenn.Tensor:
        """actions: (B, D) -> (B,) = sum_d [-(a-mu)^2 / (2 sigma^2) - log sigma - log sqrt(2 pi)]."""
        a = _as_array(actions).astype(self.mean.dtype, copy=False).reshape(self.mean.shape)
        z = (self.mean - a) * (-self.log_std).exp()
        per_dim = z * z * -0.5 - self.log_std
        return per_dim.sum(-1) - self.action_dim * _LOG_SQRT_2PI

    def entropy(self) -> corenn.Tensor:
        """(B,) = sum_d [0.5 + log sqrt(2 pi) + log sigma_d]."""
        log_std = self.log_std
        if log_std.ndim == 1:
            ones = np.ones((self.mean.shape[0], 1), self.mean.dtype)
            log_std = log_std * ones  # (B, D)
        return log_std.sum(-1) + self.action_dim * (0.5 + _LOG_SQRT_2PI)

    def sample(self, rng: np.random.Generator | None = None) -> np.ndarray:
        rng = np.random.default_rng() if rng is None else rng
        mu = self.mean.data
        return (mu + self.std_data * rng.standard_normal(mu.shape, dtype=np.float32)).astype(np.float32)

    @staticmethod
    def act_numpy(mean: np.ndarray, log_std: np.ndarray, deterministic: bool = False, rng=None):
        """No-graph fast path: mean (B, D), log_std (D,) -> (actions (B, D), log_prob (B,)); same draws as `sample`."""
        if deterministic:
            actions = mean.astype(np.float32, copy=True)
        else:
            rng = np.random.default_rng() if rng is None else rng
            actions = (mean + np.exp(log_std) * rng.standard_normal(mean.shape, dtype=np.float32)).astype(np.float32)
        z = (actions - mean) * np.exp(-log_std)
        log_prob = (z * z * -0.5 - log_std).sum(-1) - mean.shape[-1] * _LOG_SQRT_2PI
        return actions, log_prob.astype(np.float32)

    def rsample(self, rng: np.random.Generator | None = None) -> corenn.Tensor:
        """Reparameterised sample mean + std * eps as a Tensor (gradients reach mean and log_std)."""
        rng = np.random.default_rng() if rng is None else rng
        eps = rng.standard_normal(self.mean.shape, dtype=np.float32)
        std = self.log_std.exp() if isinstance(self.log_std, corenn.Tensor) else self.std_data
        return self.mean + std * eps

    def mode(self) -> np.ndarray:
        return self.mean.data.astype(np.float32, copy=True)


def make_proba_distribution(action_space: gym.Space) -> Distribution:
    """Distribution class for an action space; clear error for the unsupported ones."""
    if isinstance(action_space, gym.spaces.Discrete):
        return CategoricalDistribution(int(action_space.n))
    if isinstance(action_space, gym.spaces.Box):
        if len(action_space.shape) != 1:
            raise ValueError(f"Box action spaces must be 1-D, got shape {action_space.shape}")
        return DiagGaussianDistribution(int(action_space.shape[0]))
    raise ValueError(
        f"unsupported action space {action_space}: policies here support Discrete and 1-D Box actions "
        "(MultiDiscrete, MultiBinary, Tuple and Dict action spaces are not supported)")
