"""BC's policy: observations -> features extractor -> MLP -> an action distribution's parameters.

- Discrete(n): logits (B, n); pi(a|s) = softmax(logits).
- Box(d), deterministic (loss "mse"): mean mu(s) = c + h * tanh(x) (B, d), inside the action bounds
  (c = (high + low) / 2, h = (high - low) / 2).
- Box(d), Gaussian (loss "nll"): the same mean and a state-dependent log_std (B, d), squashed into
  [LOG_STD_MIN, LOG_STD_MAX] with log_std = LOG_STD_MIN + (LOG_STD_MAX - LOG_STD_MIN) (tanh(y) + 1) / 2.
The losses that train these outputs are in `rl/bc/bc.py`.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np

import corenn

from ..core.base_policy import BasePolicy
from ..core.checkpoint import jsonable
from ..core.distributions import CategoricalDistribution
from ..core.feature_extractors import FlattenExtractor
from ..core.networks import FusedMLP, activation_key
from ..core.policies import PolicyInput, extract, get_optimizer_class

__all__ = ["BCPolicy", "MlpPolicy", "LOG_STD_MIN", "LOG_STD_MAX"]

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0


class BCPolicy(BasePolicy):
    """features_extractor + net (an MLP) and the optimizer over both.

    net_arch: hidden widths (default [256, 256]); activation_fn (default "relu"); features_extractor_class /
    features_extractor_kwargs / normalize_images as for the other policies; `gaussian` (set by BC from its
    loss, not a policy_kwargs entry): Box actions get a learned log_std output too.
    """

    default_features_extractor = FlattenExtractor

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, lr_schedule: Callable[[float], float],
                 net_arch=None, activation_fn="relu", features_extractor_class=None,
                 features_extractor_kwargs: dict | None = None, normalize_images: bool = True,
                 optimizer_class="Adam", optimizer_kwargs: dict | None = None, gaussian: bool = False):
        super().__init__()
        if not isinstance(action_space, (gym.spaces.Box, gym.spaces.Discrete)):
            raise ValueError(f"BCPolicy needs a Box or Discrete action space, got {action_space}")
        self.observation_space, self.action_space = observation_space, action_space
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        self.gaussian = bool(gaussian) and not self.discrete
        self.inputs = PolicyInput(observation_space, features_extractor_class or self.default_features_extractor,
                                  features_extractor_kwargs, normalize_images)
        self.preprocessor = self.inputs.preprocessor
        self.net_arch = [256, 256] if net_arch is None else list(net_arch)
        self.activation = activation_key(activation_fn)
        self.features_extractor = self.inputs.make_extractor()
        self.action_dim = int(action_space.n) if self.discrete else int(np.prod(action_space.shape))
        out = self.action_dim * (2 if self.gaussian else 1)
        self.net = FusedMLP(self.features_extractor.features_dim, out, self.net_arch, self.activation)
        if not self.discrete:
            low, high = action_space.low.astype(np.float32), action_space.high.astype(np.float32)
            self._center, self._half = (high + low) / 2, (high - low) / 2
        self.optimizer_class = get_optimizer_class(optimizer_class)
        self.optimizer_kwargs = dict(optimizer_kwargs or {})
        self.optimizer = self.optimizer_class(list(self.parameters()), lr=lr_schedule(1.0), **self.optimizer_kwargs)

    def config(self) -> dict:
        """JSON-able policy_kwargs to rebuild this policy (gaussian comes from BC's loss)."""
        return {"net_arch": self.net_arch, "activation_fn": self.activation, **self.inputs.config(),
                "optimizer_class": self.optimizer_class.__name__, "optimizer_kwargs": jsonable(self.optimizer_kwargs)}

    def forward(self, obs):
        """Stored observations (B, ...) -> logits (B, n), or mean (B, d), or (mean, log_std) for a Gaussian."""
        out = self.net(extract(self.features_extractor, self.inputs, obs))
        if self.discrete:
            return out
        d = self.action_dim
        mean = (out[:, :d] if self.gaussian else out).tanh() * self._half + self._center
        if not self.gaussian:
            return mean
        log_std = (out[:, d:].tanh() + 1.0) * (0.5 * (LOG_STD_MAX - LOG_STD_MIN)) + LOG_STD_MIN
        return mean, log_std

    def predict_actions(self, obs, deterministic: bool = False, rng=None) -> np.ndarray:
        """Env-scale actions (B, ...): argmax / the mean when deterministic (always the mean for MSE-trained
        Box policies), else a sample clipped to the bounds."""
        with corenn.no_grad():
            out = self(obs)
        if self.discrete:
            return CategoricalDistribution.act_numpy(out.data, deterministic, rng)[0]
        if not self.gaussian:
            mean = out.data
        else:
            mean, log_std = out[0].data, out[1].data
            if not deterministic:
                rng = np.random.default_rng() if rng is None else rng
                mean = mean + np.exp(log_std) * rng.standard_normal(mean.shape).astype(np.float32)
        actions = np.clip(mean, self.action_space.low, self.action_space.high)
        return actions.reshape(-1, *self.action_space.shape).astype(self.action_space.dtype)


MlpPolicy = BCPolicy
