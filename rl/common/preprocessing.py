"""SB3's `stable_baselines3.common.preprocessing`: re-exports of `rl.core.preprocessing`, plus
`get_action_dim` and `check_for_nested_spaces`."""
import numpy as np
from gymnasium import spaces

from ..core.preprocessing import (
    get_flattened_obs_dim,
    get_obs_shape,
    is_image_space,
    is_image_space_channels_first,
    maybe_transpose,
    preprocess_obs,
)

__all__ = ["get_flattened_obs_dim", "get_obs_shape", "is_image_space", "is_image_space_channels_first",
           "maybe_transpose", "preprocess_obs", "get_action_dim", "check_for_nested_spaces"]


def get_action_dim(action_space: spaces.Space) -> int:
    """Size of one action as stored: Box -> prod(shape), Discrete -> 1, MultiDiscrete -> its length,
    MultiBinary -> its size."""
    if isinstance(action_space, spaces.Box):
        return int(np.prod(action_space.shape))
    if isinstance(action_space, spaces.Discrete):
        return 1
    if isinstance(action_space, spaces.MultiDiscrete):
        return len(action_space.nvec)
    if isinstance(action_space, spaces.MultiBinary):
        return int(np.prod(action_space.shape))
    raise NotImplementedError(f"{action_space} action space is not supported")


def check_for_nested_spaces(obs_space: spaces.Space) -> None:
    """NotImplementedError for a Dict / Tuple space nested in a Dict / Tuple space."""
    if isinstance(obs_space, (spaces.Dict, spaces.Tuple)):
        subs = obs_space.spaces.values() if isinstance(obs_space, spaces.Dict) else obs_space.spaces
        for sub in subs:
            if isinstance(sub, (spaces.Dict, spaces.Tuple)):
                raise NotImplementedError("nested observation spaces are not supported (a Dict or Tuple inside "
                                          "a Dict or Tuple)")
