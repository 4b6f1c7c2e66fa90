"""REINFORCE: Monte-Carlo returns, incomplete-episode handling, learns small tasks."""
import numpy as np
import pytest

from rl import REINFORCE, evaluate_policy, make_vec_env
from rl.policy_gradient.reinforce import incomplete_tail_mask

from .identity_envs import IdentityEnv


def test_incomplete_tail_mask():
    starts = np.array([[1, 1], [0, 0], [1, 0], [0, 0]], np.float32)
    mask = incomplete_tail_mask(starts, dones=np.array([0, 1]))
    # env 0: episode ends after step 1 (obs 2 starts a new one), steps 2-3 are an unfinished tail
    np.testing.assert_array_equal(mask[:, 0], [True, True, False, False])
    np.testing.assert_array_equal(mask[:, 1], [True, True, True, True])


@pytest.mark.parametrize("use_baseline", [True, False])
def test_reinforce_learns_identity(use_baseline):
    env = make_vec_env(lambda: IdentityEnv(4, ep_length=20), n_envs=2, seed=0)
    model = REINFORCE("MlpPolicy", env, n_steps=100, learning_rate=3e-3, use_baseline=use_baseline, seed=0)
    model.learn(4000)
    mean, _ = evaluate_policy(model, IdentityEnv(4, ep_length=20), n_eval_episodes=5)
    assert mean >= 18  # out of 20


def test_reinforce_on_frozenlake():
    """Solves deterministic FrozenLake 4x4 (reward 1 at the goal) from sparse Monte-Carlo returns."""
    env = make_vec_env("FrozenLake-v1", n_envs=4, seed=0, env_kwargs=dict(is_slippery=False))
    model = REINFORCE("MlpPolicy", env, n_steps=32, learning_rate=1e-2, gamma=0.95, ent_coef=0.01, seed=0)
    model.learn(8000)
    import gymnasium as gym

    mean, _ = evaluate_policy(model, gym.make("FrozenLake-v1", is_slippery=False), n_eval_episodes=3)
    assert mean == pytest.approx(1.0)


@pytest.mark.slow
def test_reinforce_cartpole_partial():
    env = make_vec_env("CartPole-v1", n_envs=4, seed=0)
    model = REINFORCE("MlpPolicy", env, n_steps=512, learning_rate=3e-3, gamma=0.99, seed=0).learn(100_000)
    mean, _ = evaluate_policy(model, "CartPole-v1", n_eval_episodes=5)
    assert mean >= 200
