"""corenn environments, registered with Gymnasium on import.

  corenn/ArmReach-v0       planar 2-link MuJoCo arm, sparse reward, 50 steps
  corenn/ArmReachDense-v0  the same with dense reward -distance
  corenn/BitFlipping-v0    n_bits (default 10) bit flipping, max_episode_steps = n_bits
"""
from gymnasium.envs.registration import register, registry

from envs.bit_flipping import BitFlippingEnv, make_bit_flipping
from envs.goal_env import GoalEnv, goal_distance
from envs.reach import ArmReachEnv, ik_joint_targets, scripted_action

__all__ = ["GoalEnv", "goal_distance", "ArmReachEnv", "BitFlippingEnv", "make_bit_flipping",
           "ik_joint_targets", "scripted_action"]


def _register(env_id: str, **kwargs) -> None:
    if env_id not in registry:
        register(id=env_id, **kwargs)


_register("corenn/ArmReach-v0", entry_point="envs.reach:ArmReachEnv",
          max_episode_steps=50, kwargs={"reward_type": "sparse"})
_register("corenn/ArmReachDense-v0", entry_point="envs.reach:ArmReachEnv",
          max_episode_steps=50, kwargs={"reward_type": "dense"})
# The TimeLimit of n_bits steps is applied by the entry point so that it follows the n_bits kwarg.
_register("corenn/BitFlipping-v0", entry_point="envs.bit_flipping:make_bit_flipping",
          kwargs={"n_bits": 10})
