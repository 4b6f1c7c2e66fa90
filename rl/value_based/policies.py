"""Q-network policy for DQN / Double DQN: features (B, F) -> Q(s, .) (B, n_actions), plus a frozen target copy."""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np

import corenn
from corenn import nn

from ..core.checkpoint import jsonable
from ..core.networks import FusedMLP, activation_key
from ..core.policies import ObsPreprocessor, frozen_copy, get_optimizer_class

__all__ = ["QNetwork", "DQNPolicy"]


class QNetwork(nn.Module):
    """MLP features (B, F) -> Q values (B, n_actions)."""

    def __init__(self, features_dim: int, n_actions: int, net_arch=(64, 64), activation="relu"):
        super().__init__()
        self.n_actions = int(n_actions)
        self.net = FusedMLP(features_dim, self.n_actions, net_arch, activation)

    def forward(self, features) -> corenn.Tensor:
        return self.net(corenn.as_tensor(features, np.float32))


class DQNPolicy(nn.Module):
    """q_net, q_net_target (weights copied, no gradients) and the optimizer over q_net (SB3's DQNPolicy)."""

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, lr_schedule: Callable[[float], float],
                 net_arch=None, activation_fn="relu", optimizer_class="Adam", optimizer_kwargs: dict | None = None):
        super().__init__()
        if not isinstance(action_space, gym.spaces.Discrete):
            raise ValueError(f"DQNPolicy needs a Discrete action space, got {action_space}")
        self.observation_space, self.action_space = observation_space, action_space
        self.features_dim = ObsPreprocessor(observation_space).features_dim
        self.net_arch = [64, 64] if net_arch is None else list(net_arch)
        self.activation = activation_key(activation_fn)
        self.optimizer_class = get_optimizer_class(optimizer_class)
        self.optimizer_kwargs = dict(optimizer_kwargs or {})
        make = lambda: QNetwork(self.features_dim, int(action_space.n), self.net_arch, self.activation)  # noqa: E731
        self.q_net = make()
        self.q_net_target = frozen_copy(self.q_net, make)
        self.optimizer = self.optimizer_class(list(self.q_net.parameters()), lr=lr_schedule(1.0),
                                              **self.optimizer_kwargs)

    def config(self) -> dict:
        """JSON-able policy_kwargs to rebuild this policy."""
        return {"net_arch": self.net_arch, "activation_fn": self.activation,
                "optimizer_class": self.optimizer_class.__name__,
                "optimizer_kwargs": jsonable(self.optimizer_kwargs)}

    def q_values(self, features: np.ndarray) -> np.ndarray:
        """(B, F) -> (B, n_actions) ndarray, no graph."""
        with corenn.no_grad():
            return self.q_net(features).data

    def act(self, features: np.ndarray, deterministic: bool = True, rng=None) -> np.ndarray:
        """Greedy actions (B,) int64 (exploration is the algorithm's epsilon)."""
        return self.q_values(features).argmax(axis=-1).astype(np.int64)

    def predict_actions(self, features: np.ndarray, deterministic: bool = True, rng=None) -> np.ndarray:
        """Greedy actions (B,) (what BaseAlgorithm.predict returns)."""
        return self.act(features)
