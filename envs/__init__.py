"""corenn environments, registered with Gymnasium on import.

  corenn/ArmReach-v0       planar 2-link MuJoCo arm, sparse reward, 50 steps
  corenn/ArmReachDense-v0  the same with dense reward -distance
  corenn/ArmReachPixels-v0       the arm seen as a 64x64x3 uint8 image, dense reward, 50 steps
  corenn/ArmReachPixelsState-v0  the same with Dict {"pixels", "state"} observations
  corenn/BitFlipping-v0    n_bits (default 10) bit flipping, max_episode_steps = n_bits
  corenn/PixelSide-v0            36x36x3 uint8 image with a dot left or right; say which (Discrete(2)), 10 steps
  corenn/PixelSideContinuous-v0  the same with a Box(-1, 1, (1,)) action, reward a * side
  CartPoleNoVel-v1, PendulumNoVel-v1, MountainCarNoVel-v0, MountainCarContinuousNoVel-v0
                           rl-zoo3's velocity-masked tasks (envs.masked_velocity), also as corenn/...
"""
from gymnasium.envs.registration import register, registry

from envs.bit_flipping import BitFlippingEnv, make_bit_flipping
from envs.goal_env import GoalEnv, goal_distance
from envs.masked_velocity import MaskVelocityWrapper
from envs.pixel_side import PixelSideEnv
from envs.reach import ArmReachEnv, ik_joint_targets, scripted_action
from envs.reach_pixels import ArmReachPixelsEnv

__all__ = ["GoalEnv", "goal_distance", "ArmReachEnv", "BitFlippingEnv", "make_bit_flipping",
           "ik_joint_targets", "scripted_action", "ArmReachPixelsEnv", "PixelSideEnv",
           "MaskVelocityWrapper"]


def _register(env_id: str, **kwargs) -> None:
    if env_id not in registry:
        register(id=env_id, **kwargs)


_register("corenn/ArmReach-v0", entry_point="envs.reach:ArmReachEnv",
          max_episode_steps=50, kwargs={"reward_type": "sparse"})
_register("corenn/ArmReachDense-v0", entry_point="envs.reach:ArmReachEnv",
          max_episode_steps=50, kwargs={"reward_type": "dense"})
_register("corenn/ArmReachPixels-v0", entry_point="envs.reach_pixels:ArmReachPixelsEnv",
          max_episode_steps=50, kwargs={"obs_mode": "pixels", "reward_type": "dense"})
_register("corenn/ArmReachPixelsState-v0", entry_point="envs.reach_pixels:ArmReachPixelsEnv",
          max_episode_steps=50, kwargs={"obs_mode": "pixels_state", "reward_type": "dense"})
# The TimeLimit of n_bits steps is applied by the entry point so that it follows the n_bits kwarg.
_register("corenn/BitFlipping-v0", entry_point="envs.bit_flipping:make_bit_flipping",
          kwargs={"n_bits": 10})
# An episode is episode_length (default 10) steps; the env truncates it itself, following that kwarg.
_register("corenn/PixelSide-v0", entry_point="envs.pixel_side:PixelSideEnv", kwargs={"continuous": False})
_register("corenn/PixelSideContinuous-v0", entry_point="envs.pixel_side:PixelSideEnv", kwargs={"continuous": True})
_register("corenn/PointMassLine-v0", entry_point="envs.point_mass_line:PointMassLineEnv")  # MBPO tests (mbrl-lib shape)
# rl-zoo3's {name}NoVel-v{version} ids (no namespace, as rl-zoo3 registers them) and our corenn/ aliases.
for _base in ("CartPole-v1", "Pendulum-v1", "MountainCar-v0", "MountainCarContinuous-v0"):
    _name, _version = _base.split("-v")
    for _prefix in ("", "corenn/"):
        _register(f"{_prefix}{_name}NoVel-v{_version}", entry_point="envs.masked_velocity:make_masked_velocity_env",
                  kwargs={"env_id": _base})
