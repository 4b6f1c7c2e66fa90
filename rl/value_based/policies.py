"""Q-network policy for DQN / Double DQN: observations -> features extractor -> Q(s, .) (B, n_actions), plus a
frozen target copy with its own extractor (SB3's DQNPolicy, MlpPolicy, CnnPolicy, MultiInputPolicy)."""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np

import corenn
from corenn import nn

from ..core.base_policy import BasePolicy
from ..core.checkpoint import jsonable
from ..core.feature_extractors import CombinedExtractor, FlattenExtractor, NatureCNN
from ..core.networks import FusedMLP, activation_key
from ..core.policies import PolicyInput, extract, frozen_copy, get_optimizer_class

__all__ = ["QNetwork", "DQNPolicy", "MlpPolicy", "CnnPolicy", "MultiInputPolicy"]


class QNetwork(nn.Module):
    """Stored observations -> features_extractor (B, features_dim) -> MLP -> Q values (B, n_actions).

    Without `features_extractor` the input is flat float32 features (B, features_dim); `inputs` (a
    PolicyInput) turns raw observations (images, dicts) into the extractor's input.
    """

    def __init__(self, features_dim: int, n_actions: int, net_arch=(64, 64), activation="relu",
                 features_extractor: nn.Module | None = None, inputs: PolicyInput | None = None):
        super().__init__()
        self.n_actions = int(n_actions)
        self.features_extractor = FlattenExtractor(features_dim) if features_extractor is None else features_extractor
        self.inputs = inputs
        self.net = FusedMLP(features_dim, self.n_actions, net_arch, activation)

    def forward(self, obs) -> corenn.Tensor:
        return self.net(extract(self.features_extractor, self.inputs, obs))


class DQNPolicy(BasePolicy):
    """q_net, q_net_target (weights copied, no gradients) and the optimizer over q_net (SB3's DQNPolicy).

    net_arch: hidden widths (default [64, 64]; [] with NatureCNN, as SB3); features_extractor_class /
    features_extractor_kwargs: built as cls(observation_space, **kwargs), one per network; normalize_images:
    scale uint8 images to [0, 1].
    """

    default_features_extractor = FlattenExtractor

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, lr_schedule: Callable[[float], float],
                 net_arch=None, activation_fn="relu", features_extractor_class=None,
                 features_extractor_kwargs: dict | None = None, normalize_images: bool = True,
                 optimizer_class="Adam", optimizer_kwargs: dict | None = None):
        super().__init__()
        if not isinstance(action_space, gym.spaces.Discrete):
            raise ValueError(f"DQNPolicy needs a Discrete action space, got {action_space}")
        self.observation_space, self.action_space = observation_space, action_space
        self.inputs = PolicyInput(observation_space, features_extractor_class or self.default_features_extractor,
                                  features_extractor_kwargs, normalize_images)
        self.preprocessor = self.inputs.preprocessor
        if net_arch is None:
            net_arch = [] if self.inputs.extractor_class is NatureCNN else [64, 64]
        if not isinstance(net_arch, (list, tuple)):
            raise TypeError(f"DQNPolicy net_arch must be a list of layer widths, got {net_arch!r}")
        self.net_arch = list(net_arch)
        self.activation = activation_key(activation_fn)
        self.optimizer_class = get_optimizer_class(optimizer_class)
        self.optimizer_kwargs = dict(optimizer_kwargs or {})
        self.q_net = self.make_q_net()
        self.features_dim = self.q_net.features_extractor.features_dim
        self.q_net_target = frozen_copy(self.q_net, self.make_q_net)
        self.optimizer = self.optimizer_class(list(self.q_net.parameters()), lr=lr_schedule(1.0),
                                              **self.optimizer_kwargs)

    def make_q_net(self) -> QNetwork:
        """A new Q-network with its own features extractor."""
        extractor = self.inputs.make_extractor()
        return QNetwork(extractor.features_dim, int(self.action_space.n), self.net_arch, self.activation,
                        features_extractor=extractor, inputs=self.inputs)

    def config(self) -> dict:
        """JSON-able policy_kwargs to rebuild this policy."""
        return {"net_arch": self.net_arch, "activation_fn": self.activation, **self.inputs.config(),
                "optimizer_class": self.optimizer_class.__name__,
                "optimizer_kwargs": jsonable(self.optimizer_kwargs)}

    def q_values(self, obs) -> np.ndarray:
        """Stored observations (B, ...) -> (B, n_actions) ndarray, no graph."""
        with corenn.no_grad():
            return self.q_net(obs).data

    def act(self, obs, deterministic: bool = True, rng=None) -> np.ndarray:
        """Greedy actions (B,) int64 (exploration is the algorithm's epsilon)."""
        return self.q_values(obs).argmax(axis=-1).astype(np.int64)

    def predict_actions(self, obs, deterministic: bool = True, rng=None) -> np.ndarray:
        """Greedy actions (B,) (what BaseAlgorithm.predict returns)."""
        return self.act(obs)


class CnnPolicy(DQNPolicy):
    """DQNPolicy with NatureCNN as its default features extractor (images)."""

    default_features_extractor = NatureCNN


class MultiInputPolicy(DQNPolicy):
    """DQNPolicy with CombinedExtractor as its default features extractor (Dict observations)."""

    default_features_extractor = CombinedExtractor


MlpPolicy = DQNPolicy
