"""BitFlipping: spaces, flipping, sparse reward, batched GoalEnv methods, termination, seeding."""
import gymnasium as gym
import numpy as np
import pytest

from envs.bit_flipping import BitFlippingEnv


def test_spaces_and_reset():
    env = BitFlippingEnv(n_bits=7)
    obs, info = env.reset(seed=0)
    assert env.action_space == gym.spaces.Discrete(7)
    for v in obs.values():
        assert v.dtype == np.float32 and v.shape == (7,) and set(np.unique(v)) <= {0.0, 1.0}
    np.testing.assert_array_equal(obs["observation"], obs["achieved_goal"])
    assert not np.array_equal(obs["achieved_goal"], obs["desired_goal"]) and info["is_success"] == 0.0


def test_flipping_to_the_goal_succeeds_and_terminates():
    env = BitFlippingEnv(n_bits=10)
    obs, _ = env.reset(seed=3)
    wrong = (obs["achieved_goal"] != obs["desired_goal"]).nonzero()[0]
    for i, bit in enumerate(wrong):
        before = obs["achieved_goal"].copy()
        obs, reward, terminated, truncated, info = env.step(int(bit))
        assert obs["achieved_goal"][bit] == 1.0 - before[bit]
        last = i == len(wrong) - 1
        assert reward == (0.0 if last else -1.0)
        assert terminated == last and not truncated and info["is_success"] == float(last)
        assert reward == env.compute_reward(obs["achieved_goal"], obs["desired_goal"], info)


def test_continuous_actions_flip_positive_entries():
    env = BitFlippingEnv(n_bits=5, continuous=True)
    assert isinstance(env.action_space, gym.spaces.Box) and env.action_space.shape == (5,)
    obs, _ = env.reset(seed=1)
    action = np.array([0.5, -0.5, 0.1, -1.0, 1.0], dtype=np.float32)
    new = env.step(action)[0]["achieved_goal"]
    np.testing.assert_array_equal(new, np.where(action > 0, 1.0 - obs["achieved_goal"], obs["achieved_goal"]))


def test_batched_goal_methods_equal_per_sample():
    env = BitFlippingEnv(n_bits=6)
    rng = np.random.default_rng(0)
    ag = rng.integers(0, 2, size=(3, 5, 6)).astype(np.float32)
    dg = rng.integers(0, 2, size=(3, 5, 6)).astype(np.float32)
    dg[:, 0] = ag[:, 0]
    reward = env.compute_reward(ag, dg, None)
    terminated = env.compute_terminated(ag, dg, None)
    assert reward.shape == terminated.shape == env.compute_truncated(ag, dg, None).shape == (3, 5)
    for i in range(3):
        for j in range(5):
            assert reward[i, j] == env.compute_reward(ag[i, j], dg[i, j], {})
            assert terminated[i, j] == env.compute_terminated(ag[i, j], dg[i, j], {})
    match = (ag == dg).all(-1)
    np.testing.assert_array_equal(reward, np.where(match, 0.0, -1.0))
    np.testing.assert_array_equal(terminated, match)
    assert not env.compute_truncated(ag, dg, None).any()


def test_determinism_under_seed():
    a, b = BitFlippingEnv(12), BitFlippingEnv(12)
    for seed in range(5):
        oa, ob = a.reset(seed=seed)[0], b.reset(seed=seed)[0]
        for k in oa:
            np.testing.assert_array_equal(oa[k], ob[k])
    assert not np.array_equal(a.reset(seed=0)[0]["desired_goal"], a.reset(seed=1)[0]["desired_goal"])


def test_ansi_render_and_bad_arguments():
    env = BitFlippingEnv(n_bits=4, render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert text.startswith("state ") and "goal" in text
    with pytest.raises(ValueError):
        BitFlippingEnv(n_bits=0)
    with pytest.raises(ValueError):
        BitFlippingEnv(render_mode="rgb_array")
