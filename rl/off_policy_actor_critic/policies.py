"""Policies for continuous-action off-policy algorithms: SAC (squashed Gaussian actor) and
TD3 / DDPG (deterministic actor), both with an ensemble of Q critics evaluated in one pass.

Every actor and critic reads stored observations through its own features extractor (`features_extractor`):
flat float32 features (B, F) for MLP policies (the identity FlattenExtractor), or raw batches (uint8
images, dicts) for CnnPolicy / MultiInputPolicy (NatureCNN, CombinedExtractor), preprocessed per batch by
`rl.core.policies.PolicyInput`. With share_features_extractor=True the critic reads the actor's extractor
without training it (its features are constants in the critic loss), as SB3; target networks always have
their own copies. Actors work in the normalised action range [-1, 1]; `unscale_action` maps to the env's
Box bounds (SB3's scale_action / unscale_action).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import gymnasium as gym
import numpy as np

import corenn
from corenn import nn
from corenn.nn.functional import fused_linear

from ..core.base_policy import BasePolicy
from ..core.checkpoint import jsonable
from ..core.feature_extractors import CombinedExtractor, FlattenExtractor, NatureCNN
from ..core.networks import FusedMLP, activation_key
from ..core.policies import PolicyInput, extract, frozen_copy, get_optimizer_class

__all__ = ["SquashedGaussian", "squashed_gaussian", "SquashedGaussianActor", "DeterministicActor", "ContinuousCritic",
           "SACPolicy", "TD3Policy", "SACCnnPolicy", "SACMultiInputPolicy", "TD3CnnPolicy", "TD3MultiInputPolicy",
           "LOG_STD_MIN", "LOG_STD_MAX"]

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_2 = math.log(2.0)


class SquashedGaussian(corenn.autograd.Function):
    """Reparameterised tanh-Gaussian sample and its log-density from one head, as one graph node.

    head: (B, 2A) = [mean | log_std]; eps: (B, A) standard normal noise (zeros -> the mode).
        log_std <- clip(log_std, LOG_STD_MIN, LOG_STD_MAX);  u = mean + exp(log_std) * eps;  a = tanh(u)
        log_prob(a) = sum_d [ -eps^2 / 2 - log_std - log sqrt(2 pi) - log(1 - tanh(u)^2) ]
    using log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), exact for any u (no 1e-6 fudge).
    Outputs: actions (B, A), and log_prob (B,) when with_log_prob.
    """

    @staticmethod
    def forward(ctx, head, eps, with_log_prob=True):
        n_act = head.shape[-1] // 2
        mean, raw_log_std = head[:, :n_act], head[:, n_act:]
        log_std = np.minimum(np.maximum(raw_log_std, LOG_STD_MIN), LOG_STD_MAX)  # np.clip, without its wrapper
        std_eps = np.exp(log_std) * eps
        u = mean + std_eps
        a = np.tanh(u)
        inside = log_std == raw_log_std  # the clamp passes gradients where it left the value alone
        ctx.save_for_backward(a, std_eps * inside, inside)  # du/d(raw log_std) = std * eps inside the clamp
        ctx.set_materialize_grads(False)  # an output outside the loss gets None, not zeros
        if not with_log_prob:
            return a
        log_det = 2.0 * (_LOG_2 - u - np.logaddexp(0.0, -2.0 * u))  # log(1 - tanh(u)^2)
        log_prob = (-0.5 * eps * eps - log_std - log_det).sum(axis=-1) - n_act * _HALF_LOG_2PI
        return a, log_prob

    @staticmethod
    def backward(ctx, g_actions, g_log_prob=None):
        a, du_dls, inside = ctx.saved_tensors
        gu = np.zeros_like(a) if g_actions is None else g_actions * (1.0 - a * a)
        if g_log_prob is None:
            return np.concatenate([gu, gu * du_dls], axis=-1)
        g_lp = g_log_prob[:, None]
        gu += g_lp * (2.0 * a)  # d(-log_det)/du = 2 tanh(u)
        return np.concatenate([gu, gu * du_dls - g_lp * inside], axis=-1)


def squashed_gaussian(head, eps: np.ndarray, with_log_prob: bool = True):
    """(actions (B, A) Tensor in [-1, 1], log_prob (B,) Tensor or None) for head (B, 2A) and noise eps
    (B, A): see SquashedGaussian."""
    if not with_log_prob:
        return SquashedGaussian.apply(corenn.as_tensor(head), eps, False), None
    return SquashedGaussian.apply(corenn.as_tensor(head), eps)


class SquashedGaussianActor(nn.Module):
    """SAC actor: observations -> features_extractor (B, F) -> MLP -> [mean | log_std] (B, 2A) -> tanh-Gaussian
    actions in [-1, 1]. Without `features_extractor` the input is flat float32 features (B, features_dim)."""

    def __init__(self, features_dim: int, action_dim: int, net_arch=(256, 256), activation="relu",
                 features_extractor: nn.Module | None = None, inputs: PolicyInput | None = None):
        super().__init__()
        self.action_dim = int(action_dim)
        self.features_extractor = FlattenExtractor(features_dim) if features_extractor is None else features_extractor
        self.inputs = inputs
        self.net = FusedMLP(features_dim, 2 * self.action_dim, net_arch, activation)

    def forward(self, obs, deterministic: bool = False, rng: np.random.Generator | None = None,
                with_log_prob: bool = True):
        """-> (actions (B, A) Tensor in [-1, 1], log_prob (B,) Tensor or None)."""
        head = self.net(extract(self.features_extractor, self.inputs, obs))
        shape = (head.shape[0], self.action_dim)
        if deterministic:
            eps = np.zeros(shape, np.float32)
        else:
            eps = (rng or np.random.default_rng()).standard_normal(shape, dtype=np.float32)
        return squashed_gaussian(head, eps, with_log_prob)


class DeterministicActor(nn.Module):
    """TD3 / DDPG actor: observations -> features_extractor (B, F) -> MLP -> tanh -> actions (B, A) in [-1, 1]."""

    def __init__(self, features_dim: int, action_dim: int, net_arch=(400, 300), activation="relu",
                 features_extractor: nn.Module | None = None, inputs: PolicyInput | None = None):
        super().__init__()
        self.action_dim = int(action_dim)
        self.features_extractor = FlattenExtractor(features_dim) if features_extractor is None else features_extractor
        self.inputs = inputs
        self.net = FusedMLP(features_dim, self.action_dim, net_arch, activation, output_activation="tanh")

    def forward(self, obs) -> corenn.Tensor:
        return self.net(extract(self.features_extractor, self.inputs, obs))


class ContinuousCritic(nn.Module):
    """n_critics Q(s, a) networks as one ensemble: observations, (B, A) -> (n_critics, B).

    Observations go through `features_extractor` (B, F) first. With share_features_extractor=True the
    extractor passed in belongs to the actor: it is not registered here (not in this critic's parameters,
    state or optimizer) and its features enter the critic as constants.
    """

    def __init__(self, features_dim: int, action_dim: int, net_arch=(256, 256), activation="relu",
                 n_critics: int = 2, features_extractor: nn.Module | None = None, inputs: PolicyInput | None = None,
                 share_features_extractor: bool = False):
        super().__init__()
        self.n_critics = int(n_critics)
        if self.n_critics < 1:
            raise ValueError(f"n_critics must be >= 1, got {n_critics}")
        extractor = FlattenExtractor(features_dim) if features_extractor is None else features_extractor
        self.share_features_extractor = bool(share_features_extractor) and features_extractor is not None
        if self.share_features_extractor:
            self._shared_extractor = [extractor]  # a list: not registered as a submodule
        else:
            self.features_extractor = extractor
        self.inputs = inputs
        self.net = FusedMLP(features_dim + action_dim, 1, net_arch, activation, n_members=self.n_critics)

    def extract_features(self, obs) -> corenn.Tensor:
        """(B, F) features; a constant (no graph) when the extractor is the actor's."""
        if self.share_features_extractor:
            with corenn.no_grad():
                return extract(self._shared_extractor[0], self.inputs, obs)
        return extract(self.features_extractor, self.inputs, obs)

    @staticmethod
    def _input(features, actions):
        grad = [t for t in (features, actions) if isinstance(t, corenn.Tensor) and t.requires_grad]
        if grad:
            return corenn.cat([corenn.as_tensor(features, np.float32), corenn.as_tensor(actions, np.float32)],
                              axis=-1)
        a = actions.data if isinstance(actions, corenn.Tensor) else actions
        f = features.data if isinstance(features, corenn.Tensor) else features
        return corenn.Tensor(np.concatenate([f, a.astype(np.float32, copy=False)], axis=-1))

    def forward(self, obs, actions) -> corenn.Tensor:
        q = self.net(self._input(self.extract_features(obs), actions))  # (E, B, 1)
        return q.reshape(self.n_critics, -1)

    def q1_forward(self, obs, actions) -> corenn.Tensor:
        """First critic only, (B,): TD3's actor loss. Weights (extractor included) enter as constants."""
        with corenn.no_grad():
            features = self.extract_features(obs)
        x = self._input(features, actions)
        for layer, extra in zip(self.net.layers, self.net._extra):
            x = fused_linear(x, corenn.Tensor(layer.weight.data[0]), corenn.Tensor(layer.bias.data[0]),
                             layer.activation)
            if extra is not None:
                x = extra(x)
        return x.reshape(-1)


class _OffPolicyContinuousPolicy(BasePolicy):
    """Shared: features extractors, action scaling, optimizers, target-network pairs, config for checkpoints.

    policy_kwargs (SB3 names): net_arch (list, or dict(pi=[...], qf=[...])), activation_fn ("relu",
    "tanh" fused; other corenn activations as separate modules), n_critics, optimizer_class,
    optimizer_kwargs, share_features_extractor (default False: actor and critic have their own),
    features_extractor_class / features_extractor_kwargs (built as cls(observation_space, **kwargs); default
    FlattenExtractor, CnnPolicy: NatureCNN, MultiInputPolicy: CombinedExtractor), normalize_images.
    """

    default_net_arch = [256, 256]
    default_features_extractor = FlattenExtractor

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, lr_schedule: Callable[[float], float],
                 net_arch=None, activation_fn="relu", n_critics: int = 2, optimizer_class="Adam",
                 optimizer_kwargs: dict | None = None, share_features_extractor: bool = False,
                 features_extractor_class=None, features_extractor_kwargs: dict | None = None,
                 normalize_images: bool = True):
        super().__init__()
        if not isinstance(action_space, gym.spaces.Box):
            raise ValueError(f"{type(self).__name__} needs a Box action space, got {action_space}")
        self.observation_space, self.action_space = observation_space, action_space
        self.inputs = PolicyInput(observation_space, features_extractor_class or self.default_features_extractor,
                                  features_extractor_kwargs, normalize_images)
        self.preprocessor = self.inputs.preprocessor
        self.share_features_extractor = bool(share_features_extractor)
        self.action_dim = int(np.prod(action_space.shape))
        self.net_arch = self._default_arch() if net_arch is None else net_arch
        if isinstance(self.net_arch, dict):
            unknown = set(self.net_arch) - {"pi", "qf"}
            if unknown:
                raise ValueError(f"net_arch dict for {type(self).__name__} takes the keys 'pi' and 'qf', got "
                                 f"{sorted(map(str, unknown))}")
            self.actor_arch, self.critic_arch = list(self.net_arch.get("pi", [])), list(self.net_arch.get("qf", []))
        elif isinstance(self.net_arch, (list, tuple)):
            self.actor_arch = self.critic_arch = list(self.net_arch)
        else:
            raise TypeError(f"net_arch must be a list of layer widths or dict(pi=[...], qf=[...]), got "
                            f"{self.net_arch!r}")
        self.activation = activation_key(activation_fn)
        self.n_critics = int(n_critics)
        self.optimizer_class = get_optimizer_class(optimizer_class)
        self.optimizer_kwargs = dict(optimizer_kwargs or {})
        self._low = action_space.low.astype(np.float32)
        self._high = action_space.high.astype(np.float32)
        self._lr0 = lr_schedule(1.0)

    def _default_arch(self) -> list:
        return list(self.default_net_arch)

    def _make_actor(self, cls):
        extractor = self.inputs.make_extractor()
        return cls(extractor.features_dim, self.action_dim, self.actor_arch, self.activation,
                   features_extractor=extractor, inputs=self.inputs)

    def _make_critic(self, shared: nn.Module | None = None) -> ContinuousCritic:
        """A critic with its own extractor, or reading `shared` (the actor's) without owning it."""
        extractor = self.inputs.make_extractor() if shared is None else shared
        return ContinuousCritic(extractor.features_dim, self.action_dim, self.critic_arch, self.activation,
                                self.n_critics, features_extractor=extractor, inputs=self.inputs,
                                share_features_extractor=shared is not None)

    def _build_critic(self) -> None:
        """critic: its own extractor, or the actor's when shared."""
        self.critic = self._make_critic(shared=self.actor.features_extractor if self.share_features_extractor
                                        else None)

    def _build_critic_target(self) -> None:
        """critic_target: the critic's weights (and the shared extractor's) in a copy with its own extractor."""
        if not self.share_features_extractor:
            self.critic_target = frozen_copy(self.critic, self._make_critic)
            return
        target = self._make_critic()
        target.features_extractor.load_state_dict(self.actor.features_extractor.state_dict())
        target.net.load_state_dict(self.critic.net.state_dict())
        target.requires_grad_(False)
        self.critic_target = target

    @property
    def features_dim(self) -> int:
        return self.actor.features_extractor.features_dim

    def target_pairs(self, name: str) -> tuple[list, list]:
        """(online parameters, target parameters) of `name` ("critic" or "actor") in matching order, for
        polyak updates; a critic sharing the actor's extractor pairs that extractor with its target's."""
        online = list(getattr(self, name).parameters())
        if name == "critic" and self.share_features_extractor:
            online = list(self.actor.features_extractor.parameters()) + online
        return online, list(getattr(self, f"{name}_target").parameters())

    def _optimizer(self, module: nn.Module):
        return self.optimizer_class(list(module.parameters()), lr=self._lr0, **self.optimizer_kwargs)

    def config(self) -> dict:
        """JSON-able policy_kwargs to rebuild this policy."""
        return {"net_arch": self.net_arch, "activation_fn": self.activation, "n_critics": self.n_critics,
                **self.inputs.config(), "share_features_extractor": self.share_features_extractor,
                "optimizer_class": self.optimizer_class.__name__,
                "optimizer_kwargs": jsonable(self.optimizer_kwargs)}

    def scale_action(self, action: np.ndarray) -> np.ndarray:
        """Env bounds -> [-1, 1]."""
        return (2.0 * (action - self._low) / (self._high - self._low) - 1.0).astype(np.float32)

    def unscale_action(self, scaled: np.ndarray) -> np.ndarray:
        """[-1, 1] -> env bounds."""
        return (self._low + 0.5 * (scaled + 1.0) * (self._high - self._low)).astype(np.float32)

    def predict_actions(self, obs, deterministic: bool = False,
                        rng: np.random.Generator | None = None) -> np.ndarray:
        """Env-bounded actions for stored observations (B, ...) (what BaseAlgorithm.predict returns)."""
        return self.unscale_action(self.act(obs, deterministic, rng))


class SACPolicy(_OffPolicyContinuousPolicy):
    """SAC: squashed Gaussian actor + twin critics + target critics. net_arch list or dict(pi=, qf=)."""

    def __init__(self, observation_space, action_space, lr_schedule, **kwargs):
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)
        self.actor = self._make_actor(SquashedGaussianActor)
        self._build_critic()
        self._build_critic_target()
        self.actor.optimizer = self._optimizer(self.actor)
        self.critic.optimizer = self._optimizer(self.critic)

    def act(self, obs, deterministic: bool = False, rng=None) -> np.ndarray:
        """Actions in [-1, 1] (B, A) without a graph."""
        with corenn.no_grad():
            actions, _ = self.actor(obs, deterministic, rng, with_log_prob=False)
        return actions.data


class TD3Policy(_OffPolicyContinuousPolicy):
    """TD3 / DDPG: deterministic actor + target actor, n_critics critics + targets (default [400, 300];
    [256, 256] with NatureCNN, as SB3)."""

    default_net_arch = [400, 300]

    def __init__(self, observation_space, action_space, lr_schedule, **kwargs):
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)
        self.actor = self._make_actor(DeterministicActor)
        self._build_critic()
        self.actor_target = frozen_copy(self.actor, lambda: self._make_actor(DeterministicActor))
        self._build_critic_target()
        self.actor.optimizer = self._optimizer(self.actor)
        self.critic.optimizer = self._optimizer(self.critic)

    def _default_arch(self) -> list:
        return [256, 256] if self.inputs.extractor_class is NatureCNN else list(self.default_net_arch)

    def act(self, obs, deterministic: bool = True, rng=None) -> np.ndarray:
        """Actions in [-1, 1] (B, A) without a graph (the actor is deterministic)."""
        with corenn.no_grad():
            return self.actor(obs).data


class SACCnnPolicy(SACPolicy):
    """SACPolicy with NatureCNN as its default features extractor (images); SB3's sac CnnPolicy."""

    default_features_extractor = NatureCNN


class SACMultiInputPolicy(SACPolicy):
    """SACPolicy with CombinedExtractor as its default features extractor (Dict observations)."""

    default_features_extractor = CombinedExtractor


class TD3CnnPolicy(TD3Policy):
    """TD3Policy with NatureCNN as its default features extractor (images); SB3's td3 CnnPolicy."""

    default_features_extractor = NatureCNN


class TD3MultiInputPolicy(TD3Policy):
    """TD3Policy with CombinedExtractor as its default features extractor (Dict observations)."""

    default_features_extractor = CombinedExtractor
