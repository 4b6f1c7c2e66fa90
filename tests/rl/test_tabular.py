import gymnasium as gym
import numpy as np
import pytest

from rl.core.evaluation import evaluate_policy
from rl.tabular import QLearning, ValueIteration


def greedy_return(model, env_id, max_steps=100, **kwargs):
    env = gym.make(env_id, max_episode_steps=max_steps, **kwargs)
    return evaluate_policy(model, env, n_eval_episodes=1)[0]


def test_value_iteration_cliffwalking_optimal():
    vi = ValueIteration("CliffWalking-v1", gamma=0.99).learn()
    assert greedy_return(vi, "CliffWalking-v1") == -13.0
    # V(start) = -sum_{k<13} gamma^k
    assert vi.V[36] == pytest.approx(-(1 - 0.99 ** 13) / (1 - 0.99), abs=1e-6)
    assert vi.policy.shape == (48,) and vi.q_values.shape == (48, 4)


def test_value_iteration_frozenlake_slippery_success_rate():
    vi = ValueIteration("FrozenLake-v1", gamma=0.99).learn()
    envs = gym.make_vec("FrozenLake-v1", num_envs=10, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP})
    envs.reset(seed=0)
    mean, _ = evaluate_policy(vi, envs, n_eval_episodes=500)
    assert 0.68 < mean < 0.80  # the optimum with a 100-step limit is about 0.74 (3 sigma: +-0.06)
    deterministic = ValueIteration(gym.make("FrozenLake-v1", is_slippery=False)).learn()
    assert greedy_return(deterministic, "FrozenLake-v1", is_slippery=False) == 1.0


def test_value_iteration_taxi():
    vi = ValueIteration("Taxi-v4", gamma=0.99).learn()  # gymnasium 1.4 ships Taxi-v4 (not v3)
    mean, _ = evaluate_policy(vi, "Taxi-v4", n_eval_episodes=100)
    assert mean > 7.0  # optimal is about 7.9 on average


def test_q_learning_solves_cliffwalking():
    model = QLearning("CliffWalking-v1", learning_rate=0.1, gamma=0.99, seed=0).learn(20_000)
    assert greedy_return(model, "CliffWalking-v1") == -13.0  # the optimal path along the cliff
    assert model.num_timesteps == 20_000 and len(model.episode_rewards) > 0


def test_q_learning_solves_deterministic_frozenlake():
    env = gym.make("FrozenLake-v1", is_slippery=False)
    model = QLearning(env, seed=1).learn(3000)
    assert greedy_return(model, "FrozenLake-v1", is_slippery=False) == 1.0
    assert model.exploration_rate == pytest.approx(0.05)


def test_q_learning_is_reproducible():
    a = QLearning("FrozenLake-v1", seed=3).learn(2000)
    b = QLearning("FrozenLake-v1", seed=3).learn(2000)
    np.testing.assert_array_equal(a.q_table, b.q_table)


def test_predict_batches_and_bad_observations():
    model = QLearning("FrozenLake-v1", seed=0)
    model.q_table[:, 2] = 1.0
    assert model.predict(5, deterministic=True) == (2, None)
    actions, _ = model.predict(np.array([0, 3, 15]), deterministic=True)
    assert actions.tolist() == [2, 2, 2]
    for bad in (16, -1, 0.5, "a"):
        with pytest.raises(ValueError, match="state"):
            model.predict(bad)


def test_unsupported_spaces_raise():
    with pytest.raises(TypeError, match="Discrete observation space"):
        QLearning("CartPole-v1")
    with pytest.raises(TypeError, match="Discrete observation space"):
        ValueIteration("Pendulum-v1")
    with pytest.raises(TypeError, match="vector env"):
        QLearning(gym.make_vec("FrozenLake-v1", num_envs=2))

    class NoModel(gym.Env):
        observation_space = gym.spaces.Discrete(3)
        action_space = gym.spaces.Discrete(2)

    with pytest.raises(TypeError, match="env.unwrapped.P"):
        ValueIteration(NoModel()).learn()
    with pytest.raises(ValueError, match="learning_rate"):
        QLearning("FrozenLake-v1", learning_rate=0.0)


def test_save_load_round_trip(tmp_path):
    model = QLearning("FrozenLake-v1", seed=0, gamma=0.9).learn(500)
    path = model.save(tmp_path / "q_frozen")
    assert path.endswith(".npz")
    loaded = QLearning.load(path)
    np.testing.assert_array_equal(loaded.q_table, model.q_table)
    assert loaded.gamma == 0.9 and loaded.num_timesteps == 500
    with np.load(path, allow_pickle=False) as archive:  # plain npz, no pickle
        assert len(archive.files) > 0
    vi = ValueIteration("CliffWalking-v1").learn()
    vi_path = vi.save(tmp_path / "vi")
    np.testing.assert_array_equal(ValueIteration.load(vi_path).policy, vi.policy)
    with pytest.raises(ValueError, match="QLearning"):
        ValueIteration.load(path)
    with pytest.raises(ValueError, match="shape"):
        QLearning.load(path, env="FrozenLake8x8-v1")
    with pytest.raises(FileNotFoundError):
        QLearning.load(tmp_path / "missing")
