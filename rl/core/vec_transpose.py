"""VecTransposeImage: channel-last image observations (H, W, C) -> channel-first (C, H, W), as SB3's wrapper.

Agents wrap an env with it by themselves when its observations hold a channel-last image
(`rl.core.vec_env.wrap_env`, SB3's `_wrap_env`), so the policy, its buffers and its checkpoints see
(C, H, W). The final observations of finished sub-envs (`infos["final_obs"]`) are transposed too.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import VectorEnv, VectorWrapper
from gymnasium.vector.utils import batch_space

from .preprocessing import is_image_space, is_image_space_channels_first, needs_transpose, transpose_image

__all__ = ["VecTransposeImage", "is_wrapped_with_transpose", "transposed_space", "transpose_observations",
           "transpose_box"]


class VecTransposeImage(VectorWrapper):
    """Transposes (n_envs, H, W, C) image observations to (n_envs, C, H, W); for Dict observations every
    channel-last image key (the others pass unchanged). skip=True wraps without transposing (SB3's flag)."""

    def __init__(self, env: VectorEnv, skip: bool = False):
        super().__init__(env)
        self.skip = bool(skip)
        single, self.image_space_keys = transposed_space(env.single_observation_space, skip)
        self.single_observation_space = single
        self.observation_space = batch_space(single, self.num_envs)

    @staticmethod
    def transpose_space(observation_space: spaces.Box, key: str = "") -> spaces.Box:
        """(H, W, C) image Box -> (C, H, W) Box."""
        return transpose_box(observation_space, key)

    @staticmethod
    def transpose_image(image: np.ndarray) -> np.ndarray:
        """(H, W, C) -> (C, H, W) or (B, H, W, C) -> (B, C, H, W)."""
        return transpose_image(image)

    def transpose_observations(self, observations):
        """A batch (or one sub-env's observation, as in infos["final_obs"]) transposed where needed."""
        return transpose_observations(observations, self.image_space_keys, self.skip)

    def _transpose_infos(self, infos: dict) -> dict:
        final = infos.get("final_obs")
        if self.skip or final is None:
            return infos
        fixed = np.empty(len(final), dtype=object)
        for i, obs in enumerate(final):
            fixed[i] = None if obs is None else self.transpose_observations(obs)
        return dict(infos, final_obs=fixed)

    def reset(self, *, seed=None, options=None):
        observations, infos = self.env.reset(seed=seed, options=options)
        return self.transpose_observations(observations), infos

    def step(self, actions):
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        return self.transpose_observations(observations), rewards, terminations, truncations, \
            self._transpose_infos(infos)


def transpose_box(observation_space: spaces.Box, key: str = "") -> spaces.Box:
    """(H, W, C) image Box -> (C, H, W) Box."""
    if not is_image_space(observation_space, check_channels=False):
        raise ValueError(f"the observation space {key!r} must be an image to be transposed, got {observation_space}")
    if is_image_space_channels_first(observation_space):
        raise ValueError(f"the observation space {key!r} is already channel-first: {observation_space.shape}")
    h, w, c = observation_space.shape
    return spaces.Box(low=0, high=255, shape=(c, h, w), dtype=observation_space.dtype)


def transposed_space(space: spaces.Space, skip: bool = False):
    """-> (the space with channel-last images made channel-first, the transposed Dict keys or None).

    Shared by this Gymnasium-vector wrapper and the SB3-API `rl.core.sb3_vec_env.VecTransposeImage`."""
    if not needs_transpose(space) and not skip:
        raise ValueError(f"VecTransposeImage needs a channel-last image observation space (H, W, C) of uint8 "
                         f"in [0, 255], or a Dict with one; got {space}")
    if isinstance(space, spaces.Dict):
        keys = [k for k, s in space.spaces.items() if needs_transpose(s)]
        return spaces.Dict({k: transpose_box(s, k) if k in keys else s for k, s in space.spaces.items()}), keys
    return (space if skip else transpose_box(space)), None


def transpose_observations(observations, image_space_keys, skip: bool = False):
    """A batch (or one observation) with channel-last images transposed: all of it, or the Dict keys given."""
    if skip:
        return observations
    if isinstance(observations, dict):
        out = type(observations)(observations)
        for key in image_space_keys:
            out[key] = np.ascontiguousarray(transpose_image(observations[key]))
        return out
    return np.ascontiguousarray(transpose_image(observations))


def is_wrapped_with_transpose(env: gym.vector.VectorEnv) -> bool:
    """True when VecTransposeImage is somewhere in `env`'s wrapper chain."""
    while True:
        if isinstance(env, VecTransposeImage):
            return True
        if not hasattr(env, "env") or env is getattr(env, "unwrapped", env):
            return False
        env = env.env
