"""make_vec_env / wrap_env: SAME_STEP autoreset, episode statistics, seeding."""
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from rl.core.vec_env import env_id_of, make_vec_env, wrap_env


def _run(env, steps=60):
    obs, _ = env.reset()
    out = [obs]
    for _ in range(steps):
        obs, *_ = env.step(np.zeros(env.num_envs, dtype=np.int64))
        out.append(obs)
    return np.stack(out)


def test_same_seed_same_obs_and_offsets():
    a, b = make_vec_env("CartPole-v1", n_envs=2, seed=3), make_vec_env("CartPole-v1", n_envs=2, seed=3)
    np.testing.assert_array_equal(_run(a), _run(b))
    single = gym.make("CartPole-v1")
    first, _ = single.reset(seed=4)
    np.testing.assert_array_equal(make_vec_env("CartPole-v1", n_envs=2, seed=3).reset()[0][1], first)


def test_final_obs_and_episode_stats_same_step():
    env = make_vec_env("CartPole-v1", n_envs=3, seed=0)
    env.reset()
    for _ in range(200):
        obs, rew, term, trunc, infos = env.step(np.ones(3, dtype=np.int64))
        if (term | trunc).any():
            done = term | trunc
            assert infos["_final_obs"][done].all() and infos["_episode"][done].all()
            assert (infos["episode"]["l"][done] > 0).all()
            # the returned obs is already the reset obs (|x| small), the final obs is out of bounds
            assert np.abs(obs[done, 2]).max() < 0.06
            break
    else:
        pytest.fail("no episode finished")


def test_wrap_env_variants():
    assert wrap_env("CartPole-v1", n_envs=2).num_envs == 2
    v = wrap_env(gym.make("CartPole-v1"))
    assert v.num_envs == 1 and env_id_of(v) == "CartPole-v1"
    with pytest.raises(ValueError, match="n_envs=1"):
        wrap_env(gym.make("CartPole-v1"), n_envs=2)
    # a NEXT_STEP vector env is adapted (finished sub-envs reset in the same step), no longer refused
    adapted = wrap_env(SyncVectorEnv([lambda: gym.make("CartPole-v1")], autoreset_mode=AutoresetMode.NEXT_STEP))
    assert adapted.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    with pytest.raises(TypeError, match="environment id"):
        wrap_env(42)
    assert env_id_of(make_vec_env("Pendulum-v1", n_envs=1)) == "Pendulum-v1"
    assert make_vec_env("CartPole-v1", n_envs=2, vec_env_cls="async").num_envs == 2
