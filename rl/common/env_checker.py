"""SB3's `stable_baselines3.common.env_checker.check_env`: Gymnasium's checker plus SB3's extra warnings.

    check_env(env, warn=True, skip_render_check=True)

Runs `gymnasium.utils.env_checker.check_env` on the unwrapped env, then, with warn=True, warns (UserWarning)
where SB3 would: an image-like Box that is not uint8 in [0, 255] (CnnPolicy will not treat it as an image),
nested Dict/Tuple observation spaces (refused by the policies), unbounded or non-float32 Box observations,
and Box actions that are not symmetric and normalised to [-1, 1] (SB3 advises rescaling them).
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env as gym_check_env

__all__ = ["check_env"]


def _warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)


def _check_obs_space(space: gym.Space, key: str = "") -> None:
    where = f"observation_space[{key!r}]" if key else "observation_space"
    if isinstance(space, spaces.Dict):
        if key:
            _warn(f"{where} is a nested Dict space; rl's policies do not support nested observation spaces")
        for k, sub in space.spaces.items():
            _check_obs_space(sub, k)
        return
    if isinstance(space, spaces.Tuple):
        _warn(f"{where} is a Tuple space; rl's policies support Box, Discrete, MultiBinary and Dict of them")
        return
    if isinstance(space, spaces.Box):
        if len(space.shape) == 3 and space.dtype != np.uint8:
            _warn(f"{where} looks like an image (3-D Box) but its dtype is {space.dtype}, not uint8: CnnPolicy "
                  "will not treat it as an image (use uint8 in [0, 255], or normalize_images=False)")
        elif len(space.shape) == 3 and (np.any(space.low != 0) or np.any(space.high != 255)):
            _warn(f"{where} looks like an image but its bounds are not [0, 255]")
        if not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))) and space.dtype != np.float32:
            _warn(f"{where} is an unbounded {space.dtype} Box; float32 is what the networks use")


def _check_action_space(space: gym.Space) -> None:
    if isinstance(space, spaces.Box):
        if np.any(np.abs(space.low) != np.abs(space.high)) or np.any(np.abs(space.low) > 1):
            _warn("the action space is a Box that is not symmetric and normalised to [-1, 1]; SB3 advises "
                  "rescaling it (continuous policies work best on [-1, 1])")
        if not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
            _warn("the action space Box is unbounded; give it finite low/high bounds")


def check_env(env: gym.Env, warn: bool = True, skip_render_check: bool = True) -> None:
    """Check that `env` follows the Gymnasium API (raises on an error) and, with warn=True, what SB3 warns about."""
    if not isinstance(env, gym.Env):
        raise TypeError(f"check_env expects a gymnasium.Env, got {type(env).__name__} (vector envs are not checked)")
    gym_check_env(env.unwrapped, skip_render_check=skip_render_check)
    if warn:
        _check_obs_space(env.observation_space)
        _check_action_space(env.action_space)
