"""SB3's test envs under `rl.common.envs` (SimpleMultiObsEnv, BitFlippingEnv with SB3's signature) and
`rl.common.env_checker.check_env`."""
import warnings

import gymnasium as gym
import numpy as np
import pytest

from rl.common.env_checker import check_env
from rl.common.envs import BitFlippingEnv, SimpleMultiObsEnv

LEFT, DOWN, RIGHT, UP = range(4)


def test_simple_multi_obs_env_spaces_and_check_env():
    env = SimpleMultiObsEnv()
    assert env.observation_space["vec"].shape == (5,) and env.observation_space["img"].shape == (64, 64, 1)
    assert env.observation_space["img"].dtype == np.uint8 and env.action_space == gym.spaces.Discrete(4)
    first = SimpleMultiObsEnv(channel_last=False, discrete_actions=False)
    assert first.observation_space["img"].shape == (1, 64, 64) and first.action_space.shape == (4,)
    check_env(env)
    check_env(first, warn=False)


def test_simple_multi_obs_env_walls_goal_and_observations():
    env = SimpleMultiObsEnv(random_start=False)
    obs, _ = env.reset(seed=0)
    assert env.state == 0 and [s for s in range(16) if env.is_wall(s)] == [5, 6, 9, 10]
    _, reward, terminated, truncated, _ = env.step(UP)  # off the grid: stay
    assert env.state == 0 and reward == pytest.approx(-0.1) and not (terminated or truncated)
    env.step(RIGHT)
    env.step(DOWN)  # state 1 -> 5 is a wall
    assert env.state == 1
    for move in (RIGHT, RIGHT, DOWN, DOWN):
        new_obs, reward, terminated, _, info = env.step(move)
    assert env.state == 11 and not terminated
    new_obs, reward, terminated, _, info = env.step(DOWN)
    assert env.state == 15 and reward == 1.0 and terminated and info["got_to_end"]
    # a column is named by its vector, a row by its image
    np.testing.assert_array_equal(new_obs["vec"], env._col_vecs[3])
    np.testing.assert_array_equal(new_obs["img"], env._row_imgs[3])
    assert not np.array_equal(obs["img"], new_obs["img"]) and not np.array_equal(obs["vec"], new_obs["vec"])


def test_simple_multi_obs_env_truncates_and_starts_randomly():
    env = SimpleMultiObsEnv(random_start=False, discrete_actions=False)
    env.reset(seed=0)
    truncated, steps = False, 0
    while not truncated:
        _, _, _, truncated, _ = env.step(np.array([0, 0, 0, 1.0], np.float32))  # argmax: up, never moves
        steps += 1
    assert steps == 101 and env.state == 0
    starts = {SimpleMultiObsEnv().reset(seed=s)[0]["vec"].tobytes() for s in range(30)}
    assert len(starts) > 1
    env = SimpleMultiObsEnv()
    states = set()
    for s in range(60):
        env.reset(seed=s)
        states.add(env.state)
    assert 15 not in states and not any(env.is_wall(s) for s in states) and len(states) > 5


def test_bit_flipping_env_with_sb3_signature_truncates_at_max_steps():
    env = BitFlippingEnv(n_bits=5, continuous=False, max_steps=3, discrete_obs_space=False, image_obs_space=False,
                         channel_first=True, render_mode="human")
    obs, _ = env.reset(seed=0)
    bit = int(np.flatnonzero(obs["achieved_goal"] == obs["desired_goal"])[0])
    flags = [env.step(bit)[3] for _ in range(3)]  # flipping a matching bit twice never succeeds
    assert flags == [False, False, True]
    assert BitFlippingEnv(n_bits=7).max_steps == 7


def test_bit_flipping_discrete_observations():
    env = BitFlippingEnv(n_bits=4, discrete_obs_space=True)
    assert env.observation_space["observation"] == gym.spaces.Discrete(16)
    obs, info = env.reset(seed=2)
    assert env.observation_space.contains(obs)
    np.testing.assert_array_equal(env.decode(obs["achieved_goal"]), env.state)
    goal = obs["desired_goal"]
    assert env.compute_reward(goal, goal, info) == 0.0 and env.compute_reward(obs["achieved_goal"], goal, info) == -1
    batch = np.array([[goal], [obs["achieved_goal"]]])  # (B, 1), as a replay buffer stores Discrete obs
    np.testing.assert_array_equal(env.compute_reward(batch, np.array([[goal], [goal]]), None), [0.0, -1.0])
    check_env(env)


@pytest.mark.parametrize("channel_first, shape", [(True, (1, 36, 36)), (False, (36, 36, 1))])
def test_bit_flipping_image_observations(channel_first, shape):
    env = BitFlippingEnv(n_bits=6, image_obs_space=True, channel_first=channel_first)
    obs, _ = env.reset(seed=0)
    assert obs["observation"].shape == shape and obs["observation"].dtype == np.uint8
    assert env.observation_space.contains(obs)
    np.testing.assert_array_equal(obs["observation"].reshape(-1)[:6], env.state * 255)
    np.testing.assert_array_equal(env.decode(obs["desired_goal"]), env.goal)
    both = np.stack([obs["achieved_goal"], obs["desired_goal"]])
    np.testing.assert_array_equal(env.compute_reward(both, np.stack([obs["desired_goal"]] * 2), None), [-1.0, 0.0])


def test_bit_flipping_render_and_bad_arguments(capsys):
    env = BitFlippingEnv(n_bits=3)
    env.reset(seed=0)
    assert env.render() is None and "goal" in capsys.readouterr().out  # SB3's default mode prints
    for kwargs in (dict(n_bits=0), dict(max_steps=0), dict(discrete_obs_space=True, image_obs_space=True),
                   dict(n_bits=63, discrete_obs_space=True)):
        with pytest.raises(ValueError):
            BitFlippingEnv(**kwargs)


def test_bit_flipping_spaces_match_sb3():
    envs = pytest.importorskip("stable_baselines3.common.envs")
    for kwargs in (dict(discrete_obs_space=True), dict(image_obs_space=True),
                   dict(image_obs_space=True, channel_first=False), dict(continuous=True)):
        ours, theirs = BitFlippingEnv(n_bits=5, **kwargs), envs.BitFlippingEnv(n_bits=5, **kwargs)
        for key in ("observation", "achieved_goal", "desired_goal"):
            assert ours.observation_space[key].shape == theirs.observation_space[key].shape
            if "discrete_obs_space" in kwargs or "image_obs_space" in kwargs:  # default: float32 Box, SB3 MultiBinary
                assert type(ours.observation_space[key]) is type(theirs.observation_space[key])
        assert ours.action_space.shape == theirs.action_space.shape and ours.max_steps == theirs.max_steps
    ours, theirs = SimpleMultiObsEnv(), envs.SimpleMultiObsEnv()
    assert ours.observation_space == theirs.observation_space and ours.action_space == theirs.action_space


class _Env(gym.Env):
    def __init__(self, observation_space, action_space):
        self.observation_space, self.action_space = observation_space, action_space

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.low.copy(), {}

    def step(self, action):
        return self.observation_space.low.copy(), 0.0, False, False, {}


def test_check_env_warns_like_sb3():
    good = _Env(gym.spaces.Box(-1, 1, (3,), np.float32), gym.spaces.Box(-1, 1, (2,), np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        check_env(good)
    with pytest.warns(UserWarning, match="normalised to \\[-1, 1\\]"):
        check_env(_Env(gym.spaces.Box(-1, 1, (3,), np.float32), gym.spaces.Box(0, 5, (2,), np.float32)))
    with pytest.warns(UserWarning, match="uint8"):
        check_env(_Env(gym.spaces.Box(0, 1, (8, 8, 3), np.float32), gym.spaces.Discrete(2)))
    with pytest.raises(TypeError, match="gymnasium.Env"):
        check_env("CartPole-v1")
