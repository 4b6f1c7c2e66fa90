"""Features extractors (SB3's `stable_baselines3.common.torch_layers`): preprocessed observations -> (B, features_dim).

    FlattenExtractor(observation_space)      (B, *shape) -> (B, prod(shape)); a Dict -> its entries concatenated
    NatureCNN(observation_space, features_dim=512, normalized_image=False)
        (B, C, H, W) -> Conv(C,32,8,s4)-ReLU-Conv(32,64,4,s2)-ReLU-Conv(64,64,3,s1)-ReLU-Flatten-Linear-ReLU
        -> (B, features_dim); H and W must be at least NATURE_CNN_MIN_SIZE (36)
    CombinedExtractor(observation_space, cnn_output_dim=256, normalized_image=False)
        Dict -> NatureCNN per image key, flatten for the others, concatenated in key order

A custom extractor is an `nn.Module` built as `cls(observation_space, **features_extractor_kwargs)` that
exposes `features_dim` (subclass `BaseFeaturesExtractor`). Checkpoints name the class, never a Python path:
`register_features_extractor(cls)` makes a class loadable by its name, and a name nobody registered is a
clear error (`resolve_features_extractor_class`).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

import corenn
from corenn import nn

from .preprocessing import NATURE_CNN_MIN_SIZE, get_flattened_obs_dim, is_image_space

__all__ = ["BaseFeaturesExtractor", "FlattenExtractor", "NatureCNN", "CombinedExtractor",
           "register_features_extractor", "resolve_features_extractor_class", "features_extractor_name",
           "registered_features_extractors", "nature_cnn_output_size"]

_EXTRACTORS: dict[str, type] = {}


def register_features_extractor(cls: type | None = None, *, name: str | None = None):
    """Make `cls` loadable from checkpoints and YAML by `name` (default: its class name). A decorator too:
    `@register_features_extractor` or `@register_features_extractor(name="MyCNN")`. Registering a name
    again replaces the class it stands for."""
    def add(klass: type) -> type:
        if not (isinstance(klass, type) and issubclass(klass, nn.Module)):
            raise TypeError(f"a features extractor must be a corenn.nn.Module subclass, got {klass!r}")
        key = klass.__name__ if name is None else str(name)
        if not key.isidentifier():
            raise ValueError(f"features extractor names must be identifiers, got {key!r}")
        _EXTRACTORS[key] = klass
        return klass
    return add if cls is None else add(cls)


def registered_features_extractors() -> list[str]:
    return sorted(_EXTRACTORS)


def resolve_features_extractor_class(value) -> type:
    """A class (returned as it is) or a registered name ("NatureCNN"; a module prefix such as
    "stable_baselines3.common.torch_layers.NatureCNN" is ignored) -> the class. ValueError otherwise."""
    if isinstance(value, type):
        if not issubclass(value, nn.Module):
            raise TypeError(f"features_extractor_class must be a corenn.nn.Module subclass, got {value!r}")
        return value
    if isinstance(value, str):
        cls = _EXTRACTORS.get(value.strip().split(".")[-1])
        if cls is None:
            raise ValueError(f"unknown features_extractor_class {value[:80]!r}; registered extractors are "
                             f"{registered_features_extractors()} (add one with "
                             "rl.core.feature_extractors.register_features_extractor)")
        return cls
    raise TypeError(f"features_extractor_class must be a class or a registered name, got {value!r}")


def features_extractor_name(cls: type) -> str:
    """The name `cls` is registered under (what a checkpoint records); ValueError when it is not registered."""
    for key, klass in _EXTRACTORS.items():
        if klass is cls:
            return key
    raise ValueError(f"features_extractor_class {cls.__name__} is not registered, so a saved agent could not name "
                     f"it; call rl.core.feature_extractors.register_features_extractor({cls.__name__}) first")


class BaseFeaturesExtractor(nn.Module):
    """Base class: remembers the observation space and the output size `features_dim`."""

    def __init__(self, observation_space: gym.Space, features_dim: int = 0):
        super().__init__()
        if isinstance(features_dim, bool) or not isinstance(features_dim, (int, np.integer)) or features_dim < 0:
            raise ValueError(f"features_dim must be a non-negative int, got {features_dim!r}")
        self._observation_space = observation_space
        self._features_dim = int(features_dim)

    @property
    def observation_space(self) -> gym.Space:
        return self._observation_space

    @property
    def features_dim(self) -> int:
        return self._features_dim


def _flatten(x):
    """(B, ...) -> (B, prod(...)); a 2-D input is returned as it is."""
    return x if x.ndim == 2 else x.reshape(x.shape[0], -1)


@register_features_extractor
class FlattenExtractor(BaseFeaturesExtractor):
    """(B, *shape) -> (B, prod(shape)); a dict of such -> their flattened entries concatenated in key order.

    Built from an observation space (SB3), or from an int: the size of already-flat features (B, F),
    which the MLP policies' fast path feeds it unchanged.
    """

    def __init__(self, observation_space: gym.Space | int):
        if isinstance(observation_space, (int, np.integer)) and not isinstance(observation_space, bool):
            super().__init__(None, int(observation_space))
        else:
            super().__init__(observation_space, get_flattened_obs_dim(observation_space))

    def forward(self, observations):
        if isinstance(observations, dict):
            keys = list(self.observation_space.spaces) if isinstance(self.observation_space, spaces.Dict) \
                else list(observations)
            return corenn.cat([_flatten(corenn.as_tensor(observations[k])) for k in keys], axis=1)
        return _flatten(observations)


def nature_cnn_output_size(height: int, width: int) -> tuple[int, int]:
    """(H, W) after NatureCNN's three convolutions; a side below 1 means the image is too small."""
    def side(n: int) -> int:
        for k, s in ((8, 4), (4, 2), (3, 1)):
            n = (n - k) // s + 1
            if n < 1:
                return 0
        return n
    return side(int(height)), side(int(width))


_IMAGE_ERROR = ("You should use NatureCNN only with images not with {space}\n"
                "(you are probably using `CnnPolicy` instead of `MlpPolicy` or `MultiInputPolicy`): an image "
                "observation space is a 3-D Box of dtype uint8 with bounds [0, 255], shaped (H, W, C) or (C, H, W).\n"
                "If you are using `normalize_images=False` with normalized images, set `normalized_image=True` "
                "in features_extractor_kwargs.")


@register_features_extractor
class NatureCNN(BaseFeaturesExtractor):
    """The DQN Nature paper's CNN (Mnih et al. 2015): (B, C, H, W) float32 -> (B, features_dim).

    observation_space: a channel-first image Box (C, H, W), H and W >= 36; normalized_image=True accepts
    float images (no dtype / bounds check), for normalize_images=False with already-scaled inputs.
    Modules as in SB3: `cnn` (three Conv2d + ReLU, Flatten) and `linear` (Linear + ReLU).
    """

    def __init__(self, observation_space: gym.Space, features_dim: int = 512, normalized_image: bool = False):
        if not isinstance(observation_space, spaces.Box):
            raise ValueError(f"NatureCNN must be used with a gymnasium.spaces.Box observation space, not "
                             f"{observation_space} (for Dict observations use MultiInputPolicy / CombinedExtractor)")
        if not is_image_space(observation_space, check_channels=False, normalized_image=normalized_image):
            raise ValueError(_IMAGE_ERROR.format(space=observation_space))
        if isinstance(features_dim, bool) or not isinstance(features_dim, (int, np.integer)) or features_dim < 1:
            raise ValueError(f"NatureCNN: features_dim must be a positive int, got {features_dim!r}")
        super().__init__(observation_space, int(features_dim))
        n_channels, height, width = observation_space.shape
        out_h, out_w = nature_cnn_output_size(height, width)
        if out_h < 1 or out_w < 1:
            raise ValueError(f"NatureCNN needs channel-first images (C, H, W) with H and W of at least "
                             f"{NATURE_CNN_MIN_SIZE} (8x8 stride 4, 4x4 stride 2, 3x3 stride 1 convolutions); "
                             f"got shape {tuple(observation_space.shape)}")
        self.normalized_image = bool(normalized_image)
        self.cnn = nn.Sequential(
            nn.Conv2d(int(n_channels), 32, kernel_size=8, stride=4, padding=0), nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=4, stride=2, padding=0), nn.ReLU(),
            nn.Conv2d(64, 64, kernel_size=3, stride=1, padding=0), nn.ReLU(),
            nn.Flatten(),
        )
        self.linear = nn.Sequential(nn.Linear(64 * out_h * out_w, self.features_dim), nn.ReLU())

    def forward(self, observations):
        return self.linear(self.cnn(observations))


@register_features_extractor
class CombinedExtractor(BaseFeaturesExtractor):
    """Dict observations: NatureCNN(cnn_output_dim) for every image key, flatten for the others; outputs
    concatenated in the space's key order -> (B, sum of parts). `extractors` is a ModuleDict by key."""

    def __init__(self, observation_space: gym.Space, cnn_output_dim: int = 256, normalized_image: bool = False):
        if not isinstance(observation_space, spaces.Dict):
            raise ValueError(f"CombinedExtractor (MultiInputPolicy) needs a Dict observation space, got "
                             f"{observation_space}; use MlpPolicy or CnnPolicy")
        super().__init__(observation_space, 1)
        extractors, total = {}, 0
        for key, subspace in observation_space.spaces.items():
            if is_image_space(subspace, normalized_image=normalized_image):
                extractors[key] = NatureCNN(subspace, features_dim=cnn_output_dim, normalized_image=normalized_image)
                total += extractors[key].features_dim
            else:
                extractors[key] = FlattenExtractor(subspace)
                total += extractors[key].features_dim
        self.extractors = nn.ModuleDict(extractors)
        self._features_dim = total

    def forward(self, observations: dict):
        return corenn.cat([extractor(observations[key]) for key, extractor in self.extractors.items()], axis=1)
