"""Parity with Stable-Baselines3's own VecEnv classes on CartPole (same seeds -> same observations, same
normalised observations, same stacked shapes). Skipped when stable_baselines3 is not installed."""

import gymnasium as gym
import numpy as np
import pytest

sb3_vec_env = pytest.importorskip("stable_baselines3.common.vec_env")
sb3_env_util = pytest.importorskip("stable_baselines3.common.env_util")

from rl.common.env_util import make_vec_env  # noqa: E402
from rl.common.vec_env import DummyVecEnv, VecFrameStack, VecNormalize  # noqa: E402


def _rollout(vec_env, n_steps: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    out = [vec_env.reset()]
    for _ in range(n_steps):
        obs, rewards, dones, infos = vec_env.step(rng.integers(0, 2, vec_env.num_envs))
        terminal = [infos[i].get("terminal_observation") for i in range(vec_env.num_envs)]
        truncated = [infos[i].get("TimeLimit.truncated") for i in range(vec_env.num_envs)]
        out.append((obs, rewards, dones, terminal, truncated))
    return out


def _assert_same(ours, theirs):
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    for a, b in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(a[0], b[0], rtol=1e-6)
        np.testing.assert_allclose(a[1], b[1], rtol=1e-6)
        assert a[1].dtype == b[1].dtype
        np.testing.assert_array_equal(a[2], b[2])
        assert a[4] == b[4]
        for x, y in zip(a[3], b[3]):
            assert (x is None) == (y is None)
            if x is not None:
                np.testing.assert_allclose(x, y, rtol=1e-6)


def test_make_vec_env_same_observations_as_sb3():
    kwargs = dict(n_envs=3, seed=7, env_kwargs={"max_episode_steps": 15})
    _assert_same(_rollout(make_vec_env("CartPole-v1", **kwargs)),
                 _rollout(sb3_env_util.make_vec_env("CartPole-v1", **kwargs)))


def test_dummy_vec_env_with_seed_same_as_sb3():
    fns = [lambda: gym.make("CartPole-v1") for _ in range(2)]
    ours, theirs = DummyVecEnv(fns), sb3_vec_env.DummyVecEnv(fns)
    assert ours.seed(11) == theirs.seed(11)
    _assert_same(_rollout(ours), _rollout(theirs))


def test_vec_normalize_same_as_sb3():
    ours = VecNormalize(make_vec_env("CartPole-v1", n_envs=2, seed=3), gamma=0.95)
    theirs = sb3_vec_env.VecNormalize(sb3_env_util.make_vec_env("CartPole-v1", n_envs=2, seed=3), gamma=0.95)
    _assert_same(_rollout(ours), _rollout(theirs))
    np.testing.assert_allclose(ours.obs_rms.var, theirs.obs_rms.var, rtol=1e-6)  # SB3 takes float32 batch moments
    np.testing.assert_allclose(ours.ret_rms.var, theirs.ret_rms.var, rtol=1e-6)
    assert ours.observation_space == theirs.observation_space


def test_vec_frame_stack_same_as_sb3():
    ours = VecFrameStack(make_vec_env("CartPole-v1", n_envs=2, seed=1), n_stack=3)
    theirs = sb3_vec_env.VecFrameStack(sb3_env_util.make_vec_env("CartPole-v1", n_envs=2, seed=1), n_stack=3)
    assert ours.observation_space.shape == theirs.observation_space.shape
    _assert_same(_rollout(ours), _rollout(theirs))
