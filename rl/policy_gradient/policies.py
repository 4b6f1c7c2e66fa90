"""Actor-critic policies for REINFORCE, A2C and PPO (SB3's ActorCriticPolicy / MlpPolicy).

Data flow: raw observations --ObsPreprocessor (NumPy)--> float32 features (B, F)
--features_extractor (Module)--> (B, F') --MlpExtractor--> latent_pi (B, P), latent_vf (B, V)
--action_net / value_net--> distribution parameters, V(s) (B,).
The preprocessor flattens Box, one-hot encodes Discrete and concatenates Dict observations, so
rollout buffers store flat float32 features; a custom `features_extractor_class` (a Module taking
(B, F) and exposing `features_dim`) is the hook for image or Dict-aware encoders.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import gymnasium as gym
import numpy as np

import corenn
from corenn import nn, optim

from ..core.checkpoint import jsonable
from ..core.distributions import CategoricalDistribution, DiagGaussianDistribution, make_proba_distribution
from ..core.networks import activation_name, create_mlp, get_activation, init_orthogonal
from ..core.policies import ObsPreprocessor, get_optimizer_class

__all__ = ["FlattenExtractor", "MlpExtractor", "ActorCriticPolicy", "MlpPolicy", "MultiInputPolicy"]


class FlattenExtractor(nn.Module):
    """Identity on already-flat features (B, F) -> (B, F)."""

    def __init__(self, features_dim: int):
        super().__init__()
        self.features_dim = int(features_dim)

    def forward(self, features):
        return features


class MlpExtractor(nn.Module):
    """Separate policy and value MLPs (SB3 >= 1.8): net_arch list -> both; dict(pi=[..], vf=[..])."""

    def __init__(self, feature_dim: int, net_arch, activation_fn):
        super().__init__()
        if isinstance(net_arch, dict):
            pi_arch, vf_arch = list(net_arch.get("pi", [])), list(net_arch.get("vf", []))
        else:
            pi_arch = vf_arch = list(net_arch)
        self.policy_net = create_mlp(feature_dim, 0, pi_arch, activation_fn)
        self.value_net = create_mlp(feature_dim, 0, vf_arch, activation_fn)
        self.latent_dim_pi = pi_arch[-1] if pi_arch else feature_dim
        self.latent_dim_vf = vf_arch[-1] if vf_arch else feature_dim

    def forward(self, features):
        return self.policy_net(features), self.value_net(features)

    def forward_actor(self, features):
        return self.policy_net(features)

    def forward_critic(self, features):
        return self.value_net(features)


class ActorCriticPolicy(nn.Module):
    """Policy + value function for PPO / A2C / REINFORCE with SB3's policy_kwargs.

    net_arch: list or dict(pi=[...], vf=[...]) (default dict(pi=[64, 64], vf=[64, 64]));
    activation_fn: corenn.nn class or name (default Tanh); ortho_init: SB3 gains (sqrt 2 hidden,
    0.01 policy head, 1 value head); log_std_init: Gaussian log-std start; optimizer_class /
    optimizer_kwargs: the optimizer built over all parameters (Adam gets eps=1e-5 like SB3).
    """

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, lr_schedule: Callable[[float], float],
                 net_arch=None, activation_fn=nn.Tanh, ortho_init: bool = True, log_std_init: float = 0.0,
                 features_extractor_class=FlattenExtractor, features_extractor_kwargs: dict | None = None,
                 optimizer_class=optim.Adam, optimizer_kwargs: dict | None = None):
        super().__init__()
        self.observation_space, self.action_space = observation_space, action_space
        self.net_arch = dict(pi=[64, 64], vf=[64, 64]) if net_arch is None else net_arch
        self.activation_fn = get_activation(activation_fn)
        self.ortho_init, self.log_std_init = bool(ortho_init), float(log_std_init)
        self.optimizer_class = get_optimizer_class(optimizer_class)
        self.optimizer_kwargs = dict(optimizer_kwargs or {})
        if self.optimizer_class is optim.Adam and "eps" not in self.optimizer_kwargs:
            self.optimizer_kwargs["eps"] = 1e-5

        self.preprocessor = ObsPreprocessor(observation_space)
        self.features_extractor = features_extractor_class(self.preprocessor.features_dim,
                                                           **(features_extractor_kwargs or {}))
        self.features_dim = self.features_extractor.features_dim
        self.mlp_extractor = MlpExtractor(self.features_dim, self.net_arch, self.activation_fn)
        self.action_dist = make_proba_distribution(action_space)
        if isinstance(self.action_dist, DiagGaussianDistribution):
            self.action_net, self.log_std = self.action_dist.proba_distribution_net(
                self.mlp_extractor.latent_dim_pi, self.log_std_init)
        else:
            self.action_net = self.action_dist.proba_distribution_net(self.mlp_extractor.latent_dim_pi)
        self.value_net = nn.Linear(self.mlp_extractor.latent_dim_vf, 1)
        if self.ortho_init:
            for module, gain in ((self.features_extractor, math.sqrt(2)), (self.mlp_extractor, math.sqrt(2)),
                                 (self.action_net, 0.01), (self.value_net, 1.0)):
                init_orthogonal(module, gain)
        self.optimizer = self.optimizer_class(list(self.parameters()), lr=lr_schedule(1.0), **self.optimizer_kwargs)
        self._is_box = isinstance(action_space, gym.spaces.Box)
        if self._is_box:
            self._low = action_space.low.astype(np.float32)
            self._high = action_space.high.astype(np.float32)
        self._build_numpy_plans()

    def _build_numpy_plans(self) -> None:
        """Acting without Tensors for plain Linear/Tanh/ReLU stacks (the rollout hot path)."""
        pi = _numpy_plan(self.mlp_extractor.policy_net)
        vf = _numpy_plan(self.mlp_extractor.value_net)
        ok = type(self.features_extractor) is FlattenExtractor and pi is not None and vf is not None
        self._pi_plan = pi + [[self.action_net, None]] if ok else None
        self._vf_plan = vf + [[self.value_net, None]] if ok else None

    # ------------------------------------------------------------------ description
    def config(self) -> dict:
        """JSON-able policy_kwargs to rebuild this policy."""
        return {"net_arch": self.net_arch, "activation_fn": activation_name(self.activation_fn),
                "ortho_init": self.ortho_init, "log_std_init": self.log_std_init,
                "optimizer_class": self.optimizer_class.__name__, "optimizer_kwargs": jsonable(self.optimizer_kwargs)}

    # ------------------------------------------------------------------ core pieces
    def _distribution(self, latent_pi):
        logits_or_mean = self.action_net(latent_pi)
        if isinstance(self.action_dist, CategoricalDistribution):
            return self.action_dist.proba_distribution(logits_or_mean)
        return self.action_dist.proba_distribution(logits_or_mean, self.log_std)

    def _features(self, features: np.ndarray):
        return self.features_extractor(corenn.as_tensor(features))

    def get_distribution(self, features: np.ndarray):
        """Distribution for preprocessed features (B, F)."""
        return self._distribution(self.mlp_extractor.forward_actor(self._features(features)))

    def evaluate_actions(self, features: np.ndarray, actions: np.ndarray, entropy_grad: bool = True):
        """Training path with gradients -> (values (B,), log_prob (B,), entropy (B,)) Tensors.

        entropy_grad=False computes the entropy without a graph (for logging when ent_coef is 0).
        """
        feats = self._features(features)
        latent_pi, latent_vf = self.mlp_extractor(feats)
        dist = self._distribution(latent_pi)
        values = self.value_net(latent_vf).reshape(-1)
        if entropy_grad:
            return values, dist.log_prob(actions), dist.entropy()
        with corenn.no_grad():
            entropy = dist.entropy()
        return values, dist.log_prob(actions), entropy

    def predict_values(self, features: np.ndarray) -> np.ndarray:
        """V(s) for features (B, F) -> (B,) ndarray, without a graph."""
        if self._vf_plan is not None:
            return _run_plan(self._vf_plan, features).reshape(-1)
        with corenn.no_grad():
            latent_vf = self.mlp_extractor.forward_critic(self._features(features))
            return self.value_net(latent_vf).data.reshape(-1)

    def act(self, features: np.ndarray, deterministic: bool = False, rng: np.random.Generator | None = None):
        """Rollout path, no graph: features (B, F) -> (actions, values (B,), log_probs (B,)) ndarrays."""
        if self._pi_plan is not None:
            actions, log_prob = self._act_numpy(features, deterministic, rng)
            return actions, _run_plan(self._vf_plan, features).reshape(-1), log_prob
        with corenn.no_grad():
            latent_pi, latent_vf = self.mlp_extractor(self._features(features))
            dist = self._distribution(latent_pi)
            actions = dist.get_actions(deterministic, rng)
            log_prob = dist.log_prob(actions).data
            values = self.value_net(latent_vf).data.reshape(-1)
        return actions, values, log_prob

    def predict_actions(self, features: np.ndarray, deterministic: bool = False,
                        rng: np.random.Generator | None = None) -> np.ndarray:
        """Actions for features (B, F), clipped to the Box bounds (what the env receives)."""
        if self._pi_plan is not None:
            return self.scale_actions(self._act_numpy(features, deterministic, rng)[0])
        with corenn.no_grad():
            actions = self.get_distribution(features).get_actions(deterministic, rng)
        return self.scale_actions(actions)

    def _act_numpy(self, features: np.ndarray, deterministic: bool, rng):
        params = _run_plan(self._pi_plan, features)
        if isinstance(self.action_dist, CategoricalDistribution):
            return CategoricalDistribution.act_numpy(params, deterministic, rng)
        return DiagGaussianDistribution.act_numpy(params, self.log_std.data, deterministic, rng)

    def scale_actions(self, actions: np.ndarray) -> np.ndarray:
        """Clip Gaussian actions to the action space bounds (SB3 clips, it does not squash)."""
        return np.clip(actions, self._low, self._high) if self._is_box else actions


def _numpy_plan(seq):
    """[[Linear, activation class or None], ...] for a Sequential of Linear/Tanh/ReLU/Identity, else None."""
    plan = []
    for m in seq:
        if isinstance(m, nn.Linear):
            plan.append([m, None])
        elif type(m) in (nn.Tanh, nn.ReLU) and plan and plan[-1][1] is None:
            plan[-1][1] = type(m)
        elif type(m) is not nn.Identity:
            return None
    return plan


def _run_plan(plan, x: np.ndarray) -> np.ndarray:
    """NumPy forward through a plan: x (B, F) -> (B, out)."""
    for linear, act in plan:
        z = x @ linear.weight.data.T
        if linear.bias is not None:
            z += linear.bias.data
        if act is nn.Tanh:
            np.tanh(z, out=z)
        elif act is nn.ReLU:
            np.maximum(z, 0.0, out=z)
        x = z
    return x


MlpPolicy = ActorCriticPolicy
MultiInputPolicy = ActorCriticPolicy
