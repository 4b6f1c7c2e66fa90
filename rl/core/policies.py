"""What every policy shares: observations -> what buffers store and networks read, optimizers by name,
target networks.

Two forms of observations, chosen by `uses_raw_observations(space, features_extractor_class)`:
- flat (MLP policies on spaces without images, the fast path): `ObsPreprocessor` turns raw observations
  (B, *obs_shape) into float32 features (B, F): Box flattened, Discrete one-hot encoded, MultiBinary
  flattened, Dict entries concatenated in the space's key order; the normaliser works on these, on-policy
  buffers store them and the features extractor is the identity;
- raw (an image in the space, or an extractor that needs the observation's shape, e.g. NatureCNN): the
  observations as the env gives them (images stay uint8, channel-first), stored as they are, and
  preprocessed (`preprocess_obs`: float32, images scaled, one-hot) per batch inside the policy.
`PolicyInput` holds that choice for a policy: it builds the features extractors and turns a stored batch
into the extractor's input.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import gymnasium as gym
import numpy as np

import corenn
from corenn import nn, optim

from .checkpoint import jsonable
from .feature_extractors import (
    CombinedExtractor,
    FlattenExtractor,
    features_extractor_name,
    resolve_features_extractor_class,
)
from .preprocessing import get_obs_shape, has_image_space, is_image_space, preprocess_obs

__all__ = ["ObsPreprocessor", "PolicyInput", "uses_raw_observations", "get_optimizer_class", "frozen_copy",
           "default_features_extractor", "extract"]

_OPTIMIZERS = {"adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop, "sgd": optim.SGD}


def get_optimizer_class(optimizer_class):
    """corenn optimizer class from a class or a name ("Adam", "RMSprop", "th.optim.Adam", ...)."""
    if isinstance(optimizer_class, type) and issubclass(optimizer_class, optim.Optimizer):
        return optimizer_class
    name = optimizer_class if isinstance(optimizer_class, str) else getattr(optimizer_class, "__name__", "")
    key = name.split(".")[-1].lower()
    if key in _OPTIMIZERS:
        return _OPTIMIZERS[key]
    raise ValueError(f"unknown optimizer {optimizer_class!r}; use one of Adam, AdamW, RMSprop, SGD")


def uses_raw_observations(observation_space: gym.Space, features_extractor_class) -> bool:
    """False for the flat-feature fast path: no image in the space and a FlattenExtractor (or a
    CombinedExtractor, which on a space without images is the same concatenation); True otherwise."""
    if has_image_space(observation_space):
        return True
    return resolve_features_extractor_class(features_extractor_class) not in (FlattenExtractor, CombinedExtractor)


def default_features_extractor(policy_class, policy_kwargs: dict | None = None):
    """The features extractor class a policy class gets with these policy_kwargs."""
    given = (policy_kwargs or {}).get("features_extractor_class")
    return resolve_features_extractor_class(given or getattr(policy_class, "default_features_extractor",
                                                             FlattenExtractor))


class ObsPreprocessor:
    """Observations (single or batched) -> what buffers store: float32 features (B, features_dim), or with
    raw=True the observations themselves (B, *shape) in the space's dtype (a dict for Dict spaces).
    Validates shapes. `features_dim` is the flat size either way."""

    def __init__(self, space: gym.Space, raw: bool = False):
        self.space, self.raw = space, bool(raw)
        if isinstance(space, gym.spaces.Dict):
            self.parts = [(k, ObsPreprocessor(s, raw)) for k, s in space.spaces.items()]
            self.features_dim = sum(p.features_dim for _, p in self.parts)
        elif isinstance(space, gym.spaces.Box):
            self.features_dim = int(np.prod(space.shape))
        elif isinstance(space, gym.spaces.Discrete):
            self.features_dim = int(space.n)
        elif isinstance(space, gym.spaces.MultiBinary):
            self.features_dim = int(np.prod(space.shape))
        else:
            raise ValueError(f"unsupported observation space {space}: use Box, Discrete, MultiBinary or a Dict of them")

    def is_batched(self, obs) -> bool:
        """True for a batch, False for one observation; ValueError naming the expected shapes otherwise."""
        if isinstance(self.space, gym.spaces.Dict):
            if not isinstance(obs, dict):
                raise ValueError(f"Dict observation space expects a dict of arrays, got {type(obs).__name__}")
            flags = set()
            for k, p in self.parts:
                if k not in obs:
                    _missing(k)
                try:
                    flags.add(p.is_batched(obs[k]))
                except ValueError as e:
                    raise ValueError(f"observation[{k!r}]: {e}") from None
            if len(flags) != 1:
                raise ValueError("Dict observation mixes single and batched entries")
            return flags.pop()
        shape = np.shape(obs)
        single = tuple(self.space.shape)
        if shape == single:
            return False
        if len(shape) == len(single) + 1 and tuple(shape[1:]) == single:
            return True
        if not single:
            raise ValueError(f"observation has shape {shape}; expected a scalar or a 1-D batch")
        hint = ""
        if is_image_space(self.space):  # channel-first; maybe_transpose already accepted channel-last
            c, h, w = single
            hint = f" (images may also be channel-last: ({h}, {w}, {c}) or (n_envs, {h}, {w}, {c}))"
        raise ValueError(f"observation has shape {shape}; expected {single} for one observation or "
                         f"(n_envs, {', '.join(map(str, single))}) for a batch{hint}")

    @property
    def storage(self) -> tuple:
        """(shape, dtype) of one stored observation: ((F,), float32) for flat features; raw: the space's
        shape and dtype, or ({key: shape}, {key: dtype}) for a Dict."""
        if not self.raw:
            return (self.features_dim,), np.dtype(np.float32)
        if isinstance(self.space, gym.spaces.Dict):
            return ({k: p.storage[0] for k, p in self.parts}, {k: p.storage[1] for k, p in self.parts})
        return get_obs_shape(self.space), np.dtype(self.space.dtype)

    def __call__(self, obs, batched: bool = True):
        """obs: (B, *space.shape) (or one observation with batched=False) -> (B, features_dim) float32,
        or with raw=True the batch itself (B, *space.shape) (a dict of them for Dict spaces)."""
        if isinstance(self.space, gym.spaces.Dict):
            if self.raw:
                return {k: p(obs[k], batched) for k, p in self.parts}
            return np.concatenate([p(obs[k], batched) for k, p in self.parts], axis=-1)
        x = np.asarray(obs)
        if not batched:
            x = x[None]
        if self.raw:
            return x
        if isinstance(self.space, gym.spaces.Discrete):
            idx = x.reshape(-1).astype(np.int64) - int(self.space.start)
            out = np.zeros((idx.shape[0], self.features_dim), np.float32)
            out[np.arange(idx.shape[0]), idx] = 1.0
            return out
        x = x.reshape(x.shape[0], -1)
        return x if x.dtype == np.float32 else x.astype(np.float32)


def _missing(key):
    raise ValueError(f"observation dict is missing the key {key!r}")


class PolicyInput:
    """A policy's features-extractor settings and its observation form (see the module docstring).

    features_extractor_class: a class or a registered name; features_extractor_kwargs: its keyword
    arguments; normalize_images: scale uint8 images to [0, 1] before the extractor (SB3's flag).
    """

    def __init__(self, observation_space: gym.Space, features_extractor_class, features_extractor_kwargs: dict | None,
                 normalize_images: bool = True):
        self.observation_space = observation_space
        self.extractor_class = resolve_features_extractor_class(features_extractor_class)
        if features_extractor_kwargs is not None and not isinstance(features_extractor_kwargs, dict):
            raise TypeError(f"features_extractor_kwargs must be a dict, got {features_extractor_kwargs!r}")
        self.extractor_kwargs = dict(features_extractor_kwargs or {})
        self.normalize_images = bool(normalize_images)
        self.raw = uses_raw_observations(observation_space, self.extractor_class)
        self.preprocessor = ObsPreprocessor(observation_space, raw=self.raw)

    def make_extractor(self) -> nn.Module:
        """A new features extractor; on the flat path the identity FlattenExtractor(features_dim)."""
        if not self.raw:  # Flatten / Combined without images: the flat features are already what they produce
            try:
                inspect.signature(self.extractor_class).bind(self.observation_space, **self.extractor_kwargs)
            except TypeError as e:
                raise TypeError(f"{self.extractor_class.__name__}: {e} (features_extractor_kwargs)") from None
            return FlattenExtractor(self.preprocessor.features_dim)
        extractor = self.extractor_class(self.observation_space, **self.extractor_kwargs)
        dim = getattr(extractor, "features_dim", None)
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise TypeError(f"{self.extractor_class.__name__} must expose a positive int features_dim "
                            f"(subclass rl.core.feature_extractors.BaseFeaturesExtractor), got {dim!r}")
        return extractor

    def to_input(self, obs):
        """Stored observations -> the extractor's input: a float32 Tensor (B, ...) or a dict of them."""
        if not self.raw:
            return corenn.as_tensor(obs, np.float32)
        x = preprocess_obs(obs, self.observation_space, self.normalize_images)
        if isinstance(x, dict):
            return {k: corenn.Tensor(v) for k, v in x.items()}
        return corenn.Tensor(x)

    def flat_numpy(self, obs) -> np.ndarray:
        """Stored observations -> float32 (B, F) as a FlattenExtractor would give them, without Tensors."""
        if not self.raw:
            return obs
        x = preprocess_obs(obs, self.observation_space, self.normalize_images)
        parts = list(x.values()) if isinstance(x, dict) else [x]
        parts = [p.reshape(p.shape[0], -1) for p in parts]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def config(self) -> dict:
        """JSON-able policy_kwargs entries (the extractor by its registered name)."""
        return {"features_extractor_class": features_extractor_name(self.extractor_class),
                "features_extractor_kwargs": jsonable(self.extractor_kwargs),
                "normalize_images": self.normalize_images}


def extract(extractor: nn.Module, inputs: PolicyInput | None, obs):
    """features = extractor(stored observations); without `inputs` the observations are flat features."""
    return extractor(corenn.as_tensor(obs, np.float32) if inputs is None else inputs.to_input(obs))


def frozen_copy(module: nn.Module, make: Callable[[], nn.Module]) -> nn.Module:
    """A new module from `make()` holding `module`'s weights, not requiring gradients (a target network)."""
    target = make()
    target.load_state_dict(module.state_dict())
    target.requires_grad_(False)
    return target
