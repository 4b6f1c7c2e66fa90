"""Registration and gymnasium's env_checker for all corenn envs."""
import os

os.environ["SDL_VIDEODRIVER"] = "dummy"

import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import envs
from envs.goal_env import GOAL_KEYS

ENV_IDS = ["corenn/ArmReach-v0", "corenn/ArmReachDense-v0", "corenn/BitFlipping-v0"]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env_passes_without_warnings(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []
    assert isinstance(env.unwrapped, envs.GoalEnv)
    assert set(env.observation_space.spaces) == set(GOAL_KEYS)
    env.close()


def test_registration_time_limits():
    assert gym.spec("corenn/ArmReach-v0").max_episode_steps == 50
    assert gym.spec("corenn/ArmReachDense-v0").max_episode_steps == 50
    assert gym.make("corenn/ArmReach-v0").unwrapped.reward_type == "sparse"
    assert gym.make("corenn/ArmReachDense-v0").unwrapped.reward_type == "dense"
    assert gym.make("corenn/BitFlipping-v0").spec.max_episode_steps == 10
    env = gym.make("corenn/BitFlipping-v0", n_bits=4)
    assert env.spec.max_episode_steps == 4 and env.unwrapped.n_bits == 4


def test_arm_reach_truncates_at_50_steps_without_terminating():
    env = gym.make("corenn/ArmReach-v0")
    env.reset(seed=0)
    flags = [env.step(env.action_space.sample())[2:4] for _ in range(50)]
    assert not any(t for t, _ in flags)
    assert [tr for _, tr in flags] == [False] * 49 + [True]


def test_bit_flipping_truncates_at_n_bits():
    env = gym.make("corenn/BitFlipping-v0", n_bits=6)
    env.reset(seed=1)
    for _ in range(6):
        # flip a bit that already matches (or bit 0 when none does): never reaches the goal
        u = env.unwrapped
        same = (u.state == u.goal).nonzero()[0]
        _, _, terminated, truncated, _ = env.step(int(same[0]) if len(same) else 0)
        assert not terminated
    assert truncated
