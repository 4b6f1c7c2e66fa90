"""What every policy shares: observations -> flat float32 features, optimizers by name, target networks.

`ObsPreprocessor` turns raw observations (B, *obs_shape) into features (B, F): Box flattened,
Discrete one-hot encoded, MultiBinary flattened, Dict entries concatenated in the space's key
order. Buffers store these features (on-policy) or the raw observations (off-policy), and
every policy network reads (B, F).
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np

from corenn import nn, optim

__all__ = ["ObsPreprocessor", "get_optimizer_class", "frozen_copy"]

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


class ObsPreprocessor:
    """Observations (single or batched) -> float32 features (B, features_dim); validates shapes/values."""

    def __init__(self, space: gym.Space):
        self.space = space
        if isinstance(space, gym.spaces.Dict):
            self.parts = [(k, ObsPreprocessor(s)) for k, s in space.spaces.items()]
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
            flags = {p.is_batched(obs[k]) if k in obs else _missing(k) for k, p in self.parts}
            if len(flags) != 1:
                raise ValueError("Dict observation mixes single and batched entries")
            return flags.pop()
        shape = np.shape(obs)
        single = tuple(self.space.shape)
        if shape == single:
            return False
        if len(shape) == len(single) + 1 and tuple(shape[1:]) == single:
            return True
        raise ValueError(f"observation has shape {shape}; expected {single} for one observation or "
                         f"(n_envs, {', '.join(map(str, single))}) for a batch" if single else
                         f"observation has shape {shape}; expected a scalar or a 1-D batch")

    def __call__(self, obs, batched: bool = True) -> np.ndarray:
        """obs: (B, *space.shape) (or one observation with batched=False) -> (B, features_dim) float32."""
        if isinstance(self.space, gym.spaces.Dict):
            return np.concatenate([p(obs[k], batched) for k, p in self.parts], axis=-1)
        x = np.asarray(obs)
        if not batched:
            x = x[None]
        if isinstance(self.space, gym.spaces.Discrete):
            idx = x.reshape(-1).astype(np.int64) - int(self.space.start)
            out = np.zeros((idx.shape[0], self.features_dim), np.float32)
            out[np.arange(idx.shape[0]), idx] = 1.0
            return out
        x = x.reshape(x.shape[0], -1)
        return x if x.dtype == np.float32 else x.astype(np.float32)


def _missing(key):
    raise ValueError(f"observation dict is missing the key {key!r}")


def frozen_copy(module: nn.Module, make: Callable[[], nn.Module]) -> nn.Module:
    """A new module from `make()` holding `module`'s weights, not requiring gradients (a target network)."""
    target = make()
    target.load_state_dict(module.state_dict())
    target.requires_grad_(False)
    return target
