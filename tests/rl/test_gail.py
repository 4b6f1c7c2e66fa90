"""GAIL (rl/gail): reward sign and shape, the discriminator separating expert from random transitions, rewards
relabelled before GAE, the BC warm start, checkpoints, bad input and the CLI."""
import gymnasium as gym
import numpy as np
import pytest

import corenn
from rl.core.evaluation import evaluate_policy
from rl.data import flat_view, random_policy, run_policy
from rl.data.minari_format import OfflineDataset
from rl.gail import GAIL, discriminator_loss, gail_reward

SMALL = dict(n_steps=64, batch_size=64, n_epochs=2, demo_batch_size=64, policy_kwargs=dict(net_arch=[32, 32]),
             discriminator_net_arch=[32, 32])


def expert(obs) -> int:
    """A CartPole controller that balances the pole for the whole 500 steps (push towards where it falls)."""
    return int(obs[2] + 0.5 * obs[3] > 0)


def cartpole_data(policy, n_episodes: int, seed: int = 0):
    env = gym.make("CartPole-v1")
    episodes = run_policy(env, policy, n_episodes=n_episodes, seed=seed)
    return flat_view(OfflineDataset("test/cartpole/x-v0", "", env.observation_space, env.action_space, episodes, {}))


@pytest.fixture(scope="module")
def demos():
    return cartpole_data(expert, 2)


def test_reward_is_minus_log_one_minus_d():
    logits = np.array([-30.0, -2.0, 0.0, 1.5, 30.0], np.float32)
    d = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    r = gail_reward(logits)
    assert r.shape == logits.shape and r.dtype == np.float32
    np.testing.assert_allclose(r[1:4], -np.log(1.0 - d[1:4]), rtol=1e-5)
    assert r[0] == pytest.approx(np.exp(-30.0), rel=1e-4) and r[-1] == pytest.approx(30.0)  # stable at both ends
    assert (r > 0).all() and (np.diff(r) > 0).all()  # positive, larger where D says "expert"


def test_discriminator_loss_is_bce_with_the_expert_labelled_one():
    e, g = np.array([0.3, -1.0, 2.0]), np.array([1.0, -0.5])
    want = np.mean(np.log1p(np.exp(-e))) + np.mean(np.log1p(np.exp(g)))
    assert float(discriminator_loss(corenn.Tensor(e), corenn.Tensor(g)).data) == pytest.approx(want, rel=1e-6)
    assert corenn.gradcheck(discriminator_loss, [e, g])


def test_discriminator_separates_expert_from_random_transitions(demos):
    model = GAIL("MlpPolicy", "CartPole-v1", demonstrations=demos, seed=0, n_disc_updates=300,
                 disc_learning_rate=1e-3, **dict(SMALL, demo_batch_size=128))
    rand = cartpole_data(random_policy(gym.spaces.Discrete(2), 0), 40, seed=100)
    model.train_discriminator(model._features(rand.observations), rand.actions)
    held_out_expert, held_out_random = cartpole_data(expert, 1, seed=50), cartpole_data(random_policy(
        gym.spaces.Discrete(2), 1), 20, seed=500)
    f_e = model.discriminator_logits(model._features(held_out_expert.observations), held_out_expert.actions)
    f_r = model.discriminator_logits(model._features(held_out_random.observations), held_out_random.actions)
    auc = np.mean(f_e[:, None] > f_r[None, :])  # P(expert scores above random)
    assert auc > 0.9, auc
    assert gail_reward(f_e).mean() > gail_reward(f_r).mean()


def test_rollout_rewards_are_the_discriminators_before_gae(demos):
    model = GAIL("MlpPolicy", "CartPole-v1", demonstrations=demos, seed=0, n_disc_updates=0, **SMALL)
    model.learn(64)
    buf = model.rollout_buffer
    flat = buf.flat()
    want = gail_reward(model.discriminator_logits(flat.observations, flat.actions)).reshape(buf.rewards.shape)
    np.testing.assert_allclose(buf.rewards, want, rtol=1e-6)  # no time-limit cut in 64 steps
    assert not np.allclose(buf.rewards, 1.0)  # not CartPole's reward
    adv, _ = __import__("rl.core.rollout_buffer", fromlist=["compute_gae"]).compute_gae(
        want, buf.values, buf.episode_starts, buf.last_values, buf.last_dones, model.gamma, model.gae_lambda)
    np.testing.assert_allclose(buf.advantages, adv, rtol=1e-5, atol=1e-6)


def test_discriminator_updates_are_logged_and_leave_ppo_gradients_alone(demos):
    model = GAIL("MlpPolicy", "CartPole-v1", demonstrations=demos, seed=0, n_disc_updates=2, **SMALL)
    disc0 = [p.data.copy() for p in model.discriminator.parameters()]
    model.learn(128)
    assert any(not np.array_equal(a, p.data) for a, p in zip(disc0, model.discriminator.parameters()))
    assert all(p.grad is None or not np.any(p.grad) for p in model.discriminator.parameters())
    params = {id(p) for p in model._start_train()[2]}
    assert not params & {id(p) for p in model.discriminator.parameters()}


def test_bc_warm_start_imitates_the_expert(demos):
    model = GAIL("MlpPolicy", "CartPole-v1", demonstrations=demos, seed=0, learning_rate=3e-3, **SMALL)
    env = gym.make("CartPole-v1")
    assert evaluate_policy(model, env, n_eval_episodes=2)[0] < 100
    model.behaviour_cloning(300)
    test = cartpole_data(expert, 1, seed=9)
    assert np.mean(model.predict(test.observations, deterministic=True)[0] == test.actions) > 0.8
    assert evaluate_policy(model, env, n_eval_episodes=2)[0] > 450  # the expert's 500, near enough


def test_save_load_predict_identical(demos, tmp_path):
    model = GAIL("MlpPolicy", "CartPole-v1", demonstrations=demos, seed=0, n_disc_updates=1, **SMALL)
    model.learn(64)
    loaded = GAIL.load(model.save(tmp_path / "gail"), demonstrations=demos)
    obs = demos.observations[:9]
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0])
    np.testing.assert_array_equal(model.discriminator_logits(obs, demos.actions[:9]),
                                  loaded.discriminator_logits(obs, demos.actions[:9]))
    assert loaded.discriminator_net_arch == [32, 32] and loaded.num_timesteps == 64
    assert set(loaded.get_parameters()) == {"policy", "policy.optimizer", "discriminator.optimizer"}
    loaded.set_env("CartPole-v1")
    loaded.learn(64, reset_num_timesteps=False)
    assert loaded.num_timesteps == 128


def test_bad_input_is_refused_clearly(demos):
    with pytest.raises(ValueError, match="needs expert demonstrations"):
        GAIL("MlpPolicy", "CartPole-v1", **SMALL).learn(64)
    with pytest.raises(ValueError, match="observation space"):
        GAIL("MlpPolicy", "Pendulum-v1", demonstrations=demos, **SMALL)
    with pytest.raises(ValueError, match="n_disc_updates must be an int in"):
        GAIL("MlpPolicy", "CartPole-v1", n_disc_updates=-1)
    with pytest.raises(ValueError, match="discriminator_net_arch must be a list"):
        GAIL("MlpPolicy", "CartPole-v1", discriminator_net_arch=[0])


def test_cli_trains_gail_from_demonstrations(tmp_path, monkeypatch, capsys):
    pytest.importorskip("h5py")
    from rl.cli import main

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "datasets"))
    assert main(["collect", "--env", "CartPole-v1", "--kind", "random", "--episodes", "3"]) == 0
    logs = str(tmp_path / "logs")
    args = ["train", "--algo", "gail", "--env", "CartPole-v1", "-n", "128", "-f", logs, "--eval-freq", "-1", "-v", "0",
            "-params", "n_steps:32", "n_envs:1", "policy_kwargs:dict(net_arch=[16])"]
    assert main(args + ["--dataset", "corenn/cartpole/random-v0"]) == 0
    model = GAIL.load(f"{logs}/gail/CartPole-v1_1/CartPole-v1.npz")
    assert model.num_timesteps == 128
    assert main(args) == 2
    assert "imitates expert demonstrations: add --dataset" in capsys.readouterr().err
