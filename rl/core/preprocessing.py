"""Image conventions and observation preprocessing with Stable-Baselines3's names and rules.

An image space is a 3-D uint8 Box with bounds 0..255 (`is_image_space`). Policies read images
channel-first, (C, H, W): an env whose images are channel-last (H, W, C) is wrapped in
`VecTransposeImage` when an agent is built (`rl.core.vec_env.wrap_env`), and `maybe_transpose` turns a
channel-last observation given to `predict` into the channel-first one the policy expects.

`preprocess_obs` turns raw observations into what a features extractor reads: float32 arrays,
images scaled to [0, 1] when `normalize_images`, Discrete one-hot encoded, Dict entries per key.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
from gymnasium import spaces

__all__ = ["is_image_space", "is_image_space_channels_first", "has_image_space", "image_keys", "transpose_image",
           "transpose_space", "maybe_transpose", "predict_input", "needs_transpose", "preprocess_obs", "get_obs_shape",
           "get_flattened_obs_dim", "NATURE_CNN_MIN_SIZE"]

NATURE_CNN_MIN_SIZE = 36  # smallest H and W for NatureCNN's 8/4, 4/2, 3/1 convolutions: 36 -> 8 -> 3 -> 1


def is_image_space_channels_first(observation_space: spaces.Box) -> bool:
    """True when the smallest of the three dimensions is the first (C, H, W); SB3's rule."""
    smallest = int(np.argmin(observation_space.shape))
    if smallest == 1:
        warnings.warn("Treating image space as channels-last, while second dimension was smallest of the three.",
                      stacklevel=2)
    return smallest == 0


def is_image_space(observation_space: gym.Space, check_channels: bool = False, normalized_image: bool = False) -> bool:
    """A 3-D Box of uint8 values in [0, 255] (dtype and bounds not checked with normalized_image=True);
    check_channels also requires 1, 3 or 4 channels (first or last dimension)."""
    if not isinstance(observation_space, spaces.Box) or len(observation_space.shape) != 3:
        return False
    if not normalized_image:
        if observation_space.dtype != np.uint8:
            return False
        if np.any(observation_space.low != 0) or np.any(observation_space.high != 255):
            return False
    if not check_channels:
        return True
    shape = observation_space.shape
    n_channels = shape[0] if is_image_space_channels_first(observation_space) else shape[-1]
    return n_channels in (1, 3, 4)


def has_image_space(observation_space: gym.Space) -> bool:
    """An image space, or a Dict with at least one image entry."""
    if isinstance(observation_space, spaces.Dict):
        return any(is_image_space(s) for s in observation_space.spaces.values())
    return is_image_space(observation_space)


def image_keys(observation_space: gym.Space) -> list:
    """Keys of the image entries of a Dict space ([] otherwise)."""
    if not isinstance(observation_space, spaces.Dict):
        return []
    return [k for k, s in observation_space.spaces.items() if is_image_space(s)]


def needs_transpose(observation_space: gym.Space) -> bool:
    """True when the space holds a channel-last image (what VecTransposeImage wraps)."""
    if isinstance(observation_space, spaces.Dict):
        return any(needs_transpose(s) for s in observation_space.spaces.values())
    return is_image_space(observation_space) and not is_image_space_channels_first(observation_space)


def transpose_image(image: np.ndarray) -> np.ndarray:
    """(H, W, C) -> (C, H, W), or (B, H, W, C) -> (B, C, H, W)."""
    image = np.asarray(image)
    if image.ndim == 3:
        return np.transpose(image, (2, 0, 1))
    return np.transpose(image, (0, 3, 1, 2))


def transpose_space(observation_space: gym.Space) -> gym.Space:
    """The channel-first version of a space: channel-last image Boxes (also inside a Dict) transposed."""
    if isinstance(observation_space, spaces.Dict):
        return spaces.Dict({k: transpose_space(s) for k, s in observation_space.spaces.items()})
    if not needs_transpose(observation_space):
        return observation_space
    h, w, c = observation_space.shape
    return spaces.Box(low=0, high=255, shape=(c, h, w), dtype=observation_space.dtype)


def maybe_transpose(observation, observation_space: gym.Space):
    """A channel-last image observation (single or batched) transposed to fit a channel-first image space;
    anything else (and anything that already fits) is returned unchanged. Dicts are handled per key."""
    if isinstance(observation_space, spaces.Dict):
        if not isinstance(observation, dict):
            return observation
        return {k: maybe_transpose(v, observation_space.spaces[k]) if k in observation_space.spaces else v
                for k, v in observation.items()}
    if not is_image_space(observation_space):
        return observation
    obs = np.asarray(observation)
    shape = tuple(observation_space.shape)
    if obs.ndim not in (3, 4) or obs.shape == shape or obs.shape[1:] == shape:
        return observation
    transposed = transpose_image(obs)
    if transposed.shape == shape or transposed.shape[1:] == shape:
        return transposed
    return observation


def preprocess_obs(obs, observation_space: gym.Space, normalize_images: bool = True):
    """Raw observations (B, *shape) -> float32 for a features extractor: images / 255 when normalize_images,
    Discrete (B,) -> one-hot (B, n), Box and MultiBinary as float32; Dict -> a dict per key."""
    if isinstance(observation_space, spaces.Dict):
        return {k: preprocess_obs(obs[k], s, normalize_images) for k, s in observation_space.spaces.items()}
    x = np.asarray(obs)
    if isinstance(observation_space, spaces.Discrete):
        idx = x.reshape(-1).astype(np.int64) - int(observation_space.start)
        out = np.zeros((idx.shape[0], int(observation_space.n)), np.float32)
        out[np.arange(idx.shape[0]), idx] = 1.0
        return out
    if isinstance(observation_space, (spaces.Box, spaces.MultiBinary)):
        if normalize_images and is_image_space(observation_space):
            return x.astype(np.float32) * np.float32(1.0 / 255.0)
        return x if x.dtype == np.float32 else x.astype(np.float32)
    raise TypeError(f"preprocess_obs does not support the observation space {observation_space}")


def get_obs_shape(observation_space: gym.Space):
    """Shape of one stored observation: the Box / MultiBinary shape, () for Discrete, a dict for Dict."""
    if isinstance(observation_space, spaces.Dict):
        return {k: get_obs_shape(s) for k, s in observation_space.spaces.items()}
    if isinstance(observation_space, (spaces.Box, spaces.MultiBinary, spaces.Discrete)):
        return tuple(observation_space.shape)
    raise TypeError(f"unsupported observation space {observation_space}")


def get_flattened_obs_dim(observation_space: gym.Space) -> int:
    """Length of the flat vector an observation becomes (one-hot for Discrete, summed over a Dict)."""
    if isinstance(observation_space, spaces.Dict):
        return sum(get_flattened_obs_dim(s) for s in observation_space.spaces.values())
    if isinstance(observation_space, spaces.Discrete):
        return int(observation_space.n)
    if isinstance(observation_space, (spaces.Box, spaces.MultiBinary)):
        return int(np.prod(observation_space.shape))
    raise TypeError(f"unsupported observation space {observation_space}")


def predict_input(observation, observation_space: gym.Space, who: str = "predict"):
    """What `predict` was given -> an ndarray (or a dict of them) in the space's channel order.

    ValueError for a non-dict with a Dict space and for non-numeric input; images may be channel-last."""
    if isinstance(observation_space, gym.spaces.Dict):
        if not isinstance(observation, dict):
            raise ValueError(f"{who}: a Dict observation space expects a dict of arrays, "
                             f"got {type(observation).__name__}")
        obs = observation
    else:
        obs = np.asarray(observation)
        if obs.dtype == object:
            raise ValueError(f"observation must be a numeric array, got {type(observation).__name__}")
    return maybe_transpose(obs, observation_space)
