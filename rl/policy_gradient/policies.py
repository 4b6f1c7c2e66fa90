"""Actor-critic policies for REINFORCE, A2C and PPO (SB3's ActorCriticPolicy, MlpPolicy, CnnPolicy,
MultiInputPolicy).

Data flow: stored observations (`rl.core.policies`: flat float32 features (B, F) for MLP policies, or the
raw batch: uint8 images (B, C, H, W), dicts) --PolicyInput (float32, images scaled)--> features_extractor
(FlattenExtractor / NatureCNN / CombinedExtractor / custom) --> (B, F') --MlpExtractor--> latent_pi (B, P),
latent_vf (B, V) --action_net / value_net--> distribution parameters, V(s) (B,).
share_features_extractor=False gives the actor and the critic their own extractors
(`pi_features_extractor`, `vf_features_extractor`). Acting with a FlattenExtractor and a Linear/Tanh/ReLU
MLP runs as NumPy "plans" (no Tensors).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import gymnasium as gym
import numpy as np

import corenn
from corenn import nn, optim

from ..core.base_policy import BasePolicy
from ..core.checkpoint import jsonable
from ..core.distributions import CategoricalDistribution, DiagGaussianDistribution, make_proba_distribution
from ..core.feature_extractors import CombinedExtractor, FlattenExtractor, NatureCNN
from ..core.networks import activation_name, create_mlp, get_activation
from ..core.policies import PolicyInput, get_optimizer_class
from ..core.sde_distribution import StateDependentNoiseDistribution

__all__ = ["FlattenExtractor", "MlpExtractor", "ActorCriticPolicy", "ActorCriticCnnPolicy",
           "MultiInputActorCriticPolicy", "MlpPolicy", "CnnPolicy", "MultiInputPolicy", "init_weights"]


def init_weights(module: nn.Module, gain: float) -> None:
    """Orthogonal weights with `gain` and zero biases for every Linear and Conv2d in `module` (SB3)."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.orthogonal_(m.weight, gain)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0.0)


def actor_critic_arch(net_arch) -> tuple[list, list]:
    """net_arch -> (pi widths, vf widths): a list is used for both, dict(pi=[..], vf=[..]) separately
    (a missing key means no hidden layer). Other forms (SB3 < 1.8's [dict(...)], unknown keys) raise."""
    if isinstance(net_arch, dict):
        unknown = set(net_arch) - {"pi", "vf"}
        if unknown:
            raise ValueError(f"net_arch dict for an actor-critic policy takes the keys 'pi' and 'vf', got "
                             f"{sorted(map(str, unknown))}")
        pi_arch, vf_arch = list(net_arch.get("pi", [])), list(net_arch.get("vf", []))
    elif isinstance(net_arch, (list, tuple)):
        if any(isinstance(w, dict) for w in net_arch):
            raise ValueError("net_arch=[dict(pi=..., vf=...)] is SB3 < 1.8's form; pass dict(pi=[...], vf=[...])")
        pi_arch = vf_arch = list(net_arch)
    else:
        raise TypeError(f"net_arch must be a list of layer widths or dict(pi=[...], vf=[...]), got {net_arch!r}")
    return pi_arch, vf_arch  # widths are checked by create_mlp


class MlpExtractor(nn.Module):
    """Separate policy and value MLPs (SB3 >= 1.8): net_arch list -> both; dict(pi=[..], vf=[..])."""

    def __init__(self, feature_dim: int, net_arch, activation_fn):
        super().__init__()
        pi_arch, vf_arch = actor_critic_arch(net_arch)
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


class ActorCriticPolicy(BasePolicy):
    """Policy + value function for PPO / A2C / REINFORCE with SB3's policy_kwargs.

    net_arch: list or dict(pi=[...], vf=[...]) (default dict(pi=[64, 64], vf=[64, 64]); [] with NatureCNN,
    as SB3); activation_fn: corenn.nn class or name (default Tanh); ortho_init: SB3 gains (sqrt 2 for the
    extractors and hidden layers, 0.01 policy head, 1 value head); log_std_init: Gaussian log-std start;
    features_extractor_class / features_extractor_kwargs: built as cls(observation_space, **kwargs)
    (default FlattenExtractor; CnnPolicy: NatureCNN, MultiInputPolicy: CombinedExtractor);
    share_features_extractor: one extractor for actor and critic (default True); normalize_images: scale
    uint8 images to [0, 1]; optimizer_class / optimizer_kwargs: the optimizer built over all parameters
    (Adam gets eps=1e-5 like SB3). use_sde: gSDE exploration for Box actions (rl.core.sde_distribution; the
    algorithms pass it from their own use_sde), with full_std (log_std (L, A), else (L, 1)) and use_expln; they
    are ignored without use_sde, as in SB3. squash_output=True is not implemented.

    Custom networks (SB3's guide): override `_build_mlp_extractor()` to set `self.mlp_extractor` to a module
    with `latent_dim_pi`, `latent_dim_vf`, `forward(features) -> (latent_pi, latent_vf)`, `forward_actor`
    and `forward_critic`; it is called after the features extractor is built (`self.features_dim` is set).
    """

    default_features_extractor = FlattenExtractor

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, lr_schedule: Callable[[float], float],
                 net_arch=None, activation_fn=nn.Tanh, ortho_init: bool = True, use_sde: bool = False,
                 log_std_init: float = 0.0, full_std: bool = True, use_expln: bool = False,
                 squash_output: bool = False, features_extractor_class=None,
                 features_extractor_kwargs: dict | None = None,
                 share_features_extractor: bool = True, normalize_images: bool = True,
                 optimizer_class=optim.Adam, optimizer_kwargs: dict | None = None):
        super().__init__()
        if squash_output:
            raise ValueError(f"{type(self).__name__} does not implement squash_output=True (tanh-squashed gSDE); SB3's "
                             "on-policy algorithms use squash_output=False")
        if use_sde and not isinstance(action_space, gym.spaces.Box):
            raise ValueError(f"gSDE (use_sde=True) needs a continuous (Box) action space, got {action_space}")
        self.use_sde, self.full_std, self.use_expln = bool(use_sde), bool(full_std), bool(use_expln)
        self.observation_space, self.action_space = observation_space, action_space
        self.inputs = PolicyInput(observation_space, features_extractor_class or self.default_features_extractor,
                                  features_extractor_kwargs, normalize_images)
        self.preprocessor = self.inputs.preprocessor
        if net_arch is None:
            net_arch = [] if self.inputs.extractor_class is NatureCNN else dict(pi=[64, 64], vf=[64, 64])
        self.net_arch = net_arch
        self.activation_fn = get_activation(activation_fn)
        self.ortho_init, self.log_std_init = bool(ortho_init), float(log_std_init)
        self.share_features_extractor = bool(share_features_extractor)
        self.optimizer_class = get_optimizer_class(optimizer_class)
        self.optimizer_kwargs = dict(optimizer_kwargs or {})
        if self.optimizer_class is optim.Adam and "eps" not in self.optimizer_kwargs:
            self.optimizer_kwargs["eps"] = 1e-5

        if self.share_features_extractor:
            self.features_extractor = self.inputs.make_extractor()
            extractors = [self.features_extractor]
        else:
            self.pi_features_extractor = self.inputs.make_extractor()
            self.vf_features_extractor = self.inputs.make_extractor()
            extractors = [self.pi_features_extractor, self.vf_features_extractor]
        self.features_dim = extractors[0].features_dim
        self._build_mlp_extractor()
        self._check_mlp_extractor()
        if self.use_sde:
            self.action_dist = StateDependentNoiseDistribution(int(action_space.shape[0]), full_std=self.full_std,
                                                               use_expln=self.use_expln)
        else:
            self.action_dist = make_proba_distribution(action_space)
        if isinstance(self.action_dist, (DiagGaussianDistribution, StateDependentNoiseDistribution)):
            self.action_net, self.log_std = self.action_dist.proba_distribution_net(
                self.mlp_extractor.latent_dim_pi, self.log_std_init)
        else:
            self.action_net = self.action_dist.proba_distribution_net(self.mlp_extractor.latent_dim_pi)
        self.value_net = nn.Linear(self.mlp_extractor.latent_dim_vf, 1)
        if self.ortho_init:
            gains = [(e, math.sqrt(2)) for e in extractors]
            for module, gain in gains + [(self.mlp_extractor, math.sqrt(2)), (self.action_net, 0.01),
                                         (self.value_net, 1.0)]:
                init_weights(module, gain)
        self.optimizer = self.optimizer_class(list(self.parameters()), lr=lr_schedule(1.0), **self.optimizer_kwargs)
        self._is_box = isinstance(action_space, gym.spaces.Box)
        if self._is_box:
            self._low = action_space.low.astype(np.float32)
            self._high = action_space.high.astype(np.float32)
        self._build_numpy_plans()

    def _build_mlp_extractor(self) -> None:
        """Set `self.mlp_extractor` (SB3's hook: override it for a custom network)."""
        self.mlp_extractor = MlpExtractor(self.features_dim, net_arch=self.net_arch, activation_fn=self.activation_fn)

    def _check_mlp_extractor(self) -> None:
        m = getattr(self, "mlp_extractor", None)
        if not isinstance(m, nn.Module):
            raise TypeError(f"{type(self).__name__}._build_mlp_extractor must set self.mlp_extractor to a "
                            f"corenn.nn.Module, got {type(m).__name__}")
        missing = [a for a in ("latent_dim_pi", "latent_dim_vf", "forward_actor", "forward_critic")
                   if not hasattr(m, a)]
        if missing:
            raise TypeError(f"mlp_extractor {type(m).__name__} lacks {missing}: it must expose latent_dim_pi, "
                            "latent_dim_vf, forward(features) -> (latent_pi, latent_vf), forward_actor and "
                            "forward_critic (SB3's custom network contract)")
        for a in ("latent_dim_pi", "latent_dim_vf"):
            v = getattr(m, a)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise TypeError(f"mlp_extractor.{a} must be a positive int, got {v!r}")

    def _build_numpy_plans(self) -> None:
        """Acting without Tensors for a FlattenExtractor and plain Linear/Tanh/ReLU stacks (the rollout hot path);
        only for our own MlpExtractor, never for a custom one (its forward may do anything)."""
        self._pi_plan = self._vf_plan = self._latent_plan = None
        if type(self.mlp_extractor) is not MlpExtractor:
            return
        pi = _numpy_plan(self.mlp_extractor.policy_net)
        vf = _numpy_plan(self.mlp_extractor.value_net)
        flat = all(type(e) is FlattenExtractor for e in self.extractors())
        ok = flat and pi is not None and vf is not None
        self._latent_plan = pi if ok else None  # features -> latent_pi (gSDE's latent)
        self._pi_plan = pi + [[self.action_net, None]] if ok else None
        self._vf_plan = vf + [[self.value_net, None]] if ok else None

    def extractors(self) -> list:
        """[features_extractor], or [pi_features_extractor, vf_features_extractor] when not shared."""
        if self.share_features_extractor:
            return [self.features_extractor]
        return [self.pi_features_extractor, self.vf_features_extractor]

    # ------------------------------------------------------------------ description
    def config(self) -> dict:
        """JSON-able policy_kwargs to rebuild this policy."""
        sde = {"use_sde": True, "full_std": self.full_std, "use_expln": self.use_expln} if self.use_sde else {}
        return {"net_arch": self.net_arch, "activation_fn": activation_name(self.activation_fn),
                "ortho_init": self.ortho_init, "log_std_init": self.log_std_init, **self.inputs.config(),
                "share_features_extractor": self.share_features_extractor, **sde,
                "optimizer_class": self.optimizer_class.__name__, "optimizer_kwargs": jsonable(self.optimizer_kwargs)}

    def reset_noise(self, n_envs: int = 1, rng: np.random.Generator | None = None) -> None:
        """Draw new gSDE exploration matrices, one per env (SB3), from `rng` (corenn's seeded generator when None)."""
        if not self.use_sde:
            raise ValueError("reset_noise() is only available when using gSDE (use_sde=True)")
        self.action_dist.sample_weights(self.log_std, batch_size=n_envs, rng=rng)

    # ------------------------------------------------------------------ core pieces
    def _distribution(self, latent_pi):
        logits_or_mean = self.action_net(latent_pi)
        if isinstance(self.action_dist, CategoricalDistribution):
            return self.action_dist.proba_distribution(logits_or_mean)
        if self.use_sde:
            return self.action_dist.proba_distribution(logits_or_mean, self.log_std, latent_pi)
        return self.action_dist.proba_distribution(logits_or_mean, self.log_std)

    def extract_features(self, obs, features_extractor: nn.Module | None = None):
        """Stored observations (B, ...) -> features (B, features_dim) Tensor through one extractor."""
        if features_extractor is None:
            features_extractor = self.extractors()[0]
        return features_extractor(self.inputs.to_input(obs))

    def _latents(self, obs):
        """-> (latent_pi, latent_vf) Tensors; the input is preprocessed once for both extractors."""
        if self.share_features_extractor:
            return self.mlp_extractor(self.extract_features(obs))
        x = self.inputs.to_input(obs)
        return (self.mlp_extractor.forward_actor(self.pi_features_extractor(x)),
                self.mlp_extractor.forward_critic(self.vf_features_extractor(x)))

    def _latent_pi(self, obs):
        extractor = None if self.share_features_extractor else self.pi_features_extractor
        return self.mlp_extractor.forward_actor(self.extract_features(obs, extractor))

    def _latent_vf(self, obs):
        extractor = None if self.share_features_extractor else self.vf_features_extractor
        return self.mlp_extractor.forward_critic(self.extract_features(obs, extractor))

    def get_distribution(self, obs):
        """Distribution for stored observations (B, ...)."""
        return self._distribution(self._latent_pi(obs))

    def evaluate_actions(self, obs, actions: np.ndarray, entropy_grad: bool = True):
        """Training path with gradients -> (values (B,), log_prob (B,), entropy (B,)) Tensors.

        entropy_grad=False computes the entropy without a graph (for logging when ent_coef is 0).
        """
        latent_pi, latent_vf = self._latents(obs)
        dist = self._distribution(latent_pi)
        values = self.value_net(latent_vf).reshape(-1)
        if entropy_grad:
            return values, dist.log_prob(actions), dist.entropy()
        with corenn.no_grad():
            entropy = dist.entropy()
        return values, dist.log_prob(actions), entropy

    def predict_values(self, obs) -> np.ndarray:
        """V(s) for stored observations (B, ...) -> (B,) ndarray, without a graph."""
        if self._vf_plan is not None:
            return _run_plan(self._vf_plan, self.inputs.flat_numpy(obs)).reshape(-1)
        with corenn.no_grad():
            return self.value_net(self._latent_vf(obs)).data.reshape(-1)

    def act(self, obs, deterministic: bool = False, rng: np.random.Generator | None = None):
        """Rollout path, no graph: stored observations (B, ...) -> (actions, values (B,), log_probs (B,))."""
        if self._pi_plan is not None:
            features = self.inputs.flat_numpy(obs)
            actions, log_prob = self._act_numpy(features, deterministic, rng)
            return actions, _run_plan(self._vf_plan, features).reshape(-1), log_prob
        with corenn.no_grad():
            latent_pi, latent_vf = self._latents(obs)
            dist = self._distribution(latent_pi)
            actions = dist.get_actions(deterministic, rng)
            log_prob = dist.log_prob(actions).data
            values = self.value_net(latent_vf).data.reshape(-1)
        return actions, values, log_prob

    def predict_actions(self, obs, deterministic: bool = False,
                        rng: np.random.Generator | None = None) -> np.ndarray:
        """Actions for stored observations (B, ...), clipped to the Box bounds (what the env receives)."""
        if self._pi_plan is not None:
            return self.scale_actions(self._act_numpy(self.inputs.flat_numpy(obs), deterministic, rng)[0])
        with corenn.no_grad():
            actions = self.get_distribution(obs).get_actions(deterministic, rng)
        return self.scale_actions(actions)

    def _act_numpy(self, features: np.ndarray, deterministic: bool, rng):
        if self.use_sde:
            latent = _run_plan(self._latent_plan, features)
            mean = _run_plan([[self.action_net, None]], latent)
            return self.action_dist.act_numpy(mean, latent, self.log_std.data, deterministic)
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


class ActorCriticCnnPolicy(ActorCriticPolicy):
    """ActorCriticPolicy with NatureCNN as its default features extractor (images)."""

    default_features_extractor = NatureCNN


class MultiInputActorCriticPolicy(ActorCriticPolicy):
    """ActorCriticPolicy with CombinedExtractor as its default features extractor (Dict observations)."""

    default_features_extractor = CombinedExtractor


MlpPolicy = ActorCriticPolicy
CnnPolicy = ActorCriticCnnPolicy
MultiInputPolicy = MultiInputActorCriticPolicy
