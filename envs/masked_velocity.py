"""Partially observable classic-control tasks: rl-zoo3's ``MaskVelocityWrapper`` and its ``...NoVel`` ids.

As rl-zoo3 (``rl_zoo3/wrappers.py``), the velocity entries of the observation are set to zero, so the
observation keeps its shape and bounds but carries positions only; solving the task needs memory
(a recurrent policy, or frame stacking). Registered ids (``envs/__init__.py``), each also under ``corenn/``:

  CartPoleNoVel-v1             CartPole-v1 without x_dot, theta_dot (entries 1, 3)
  PendulumNoVel-v1             Pendulum-v1 without theta_dot (entry 2)
  MountainCarNoVel-v0          MountainCar-v0 without the velocity (entry 1)
  MountainCarContinuousNoVel-v0  MountainCarContinuous-v0 without the velocity (entry 1)
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np

__all__ = ["MaskVelocityWrapper", "make_masked_velocity_env", "VELOCITY_INDICES"]

# rl-zoo3's MaskVelocityWrapper.velocity_indices (the classic-control part)
VELOCITY_INDICES = {
    "CartPole-v1": [1, 3],
    "Pendulum-v1": [2],
    "MountainCar-v0": [1],
    "MountainCarContinuous-v0": [1],
}


class MaskVelocityWrapper(gym.ObservationWrapper):
    """obs (D,) -> obs * mask with mask 0 at the velocity entries (shape and dtype unchanged).

    velocity_indices: the entries to zero; None looks them up by the wrapped env's id in VELOCITY_INDICES.
    """

    def __init__(self, env: gym.Env, velocity_indices=None):
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise TypeError(f"MaskVelocityWrapper needs a flat Box observation space, got {space}")
        if velocity_indices is None:
            env_id = env.spec.id if env.spec is not None else None
            if env_id not in VELOCITY_INDICES:
                raise ValueError(f"MaskVelocityWrapper: no velocity indices known for env id {env_id!r}; known: "
                                 f"{', '.join(VELOCITY_INDICES)} (or pass velocity_indices=[...])")
            velocity_indices = VELOCITY_INDICES[env_id]
        idx = np.asarray(velocity_indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= space.shape[0]):
            raise ValueError(f"MaskVelocityWrapper: velocity_indices {idx.tolist()} out of range for an "
                             f"observation of {space.shape[0]} entries")
        self.velocity_indices = idx
        self.mask = np.ones(space.shape, dtype=space.dtype)
        self.mask[idx] = 0

    def observation(self, observation):
        return observation * self.mask


def make_masked_velocity_env(env_id: str, **kwargs) -> gym.Env:
    """gym.make(env_id, **kwargs) wrapped in MaskVelocityWrapper (the entry point of the NoVel ids)."""
    return MaskVelocityWrapper(gym.make(env_id, **kwargs))
