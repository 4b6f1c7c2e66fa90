"""CQL (rl/cql): the conservative gap against hand-computed values and finite differences, lower Q on
out-of-distribution actions than offline SAC on the same data, the Lagrange multiplier's direction,
checkpoints, bad input and the CLI."""
import math

import gymnasium as gym
import numpy as np
import pytest

import corenn
from rl.cql import CQL, cql_gap
from rl.data import flat_view, run_policy
from rl.data.minari_format import OfflineDataset

SMALL = dict(batch_size=64, n_action_samples=4, policy_kwargs=dict(net_arch=[32, 32]))


def pendulum_data(n_episodes: int = 6, seed: int = 0):
    """Pendulum transitions of a narrow behaviour policy (a damping controller plus small noise)."""
    env = gym.make("Pendulum-v1")
    rng = np.random.default_rng(seed)

    def policy(obs):
        return np.clip([-1.0 * obs[2] + 0.1 * rng.standard_normal()], -2.0, 2.0).astype(np.float32)

    episodes = run_policy(env, policy, n_episodes=n_episodes, seed=seed)
    return flat_view(OfflineDataset("test/pendulum/damped-v0", "", env.observation_space, env.action_space,
                                    episodes, {}))


@pytest.fixture(scope="module")
def data():
    return pendulum_data()


def test_cql_gap_matches_hand_computed_values():
    q_sampled = np.array([[[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]])  # (E=1, B=2, M=3)
    q_data = np.array([[1.5, -0.5]])
    log_density = np.array([[-0.7, -1.2, 0.3], [0.1, -0.4, -2.0]])
    for temperature in (1.0, 0.5):
        got = cql_gap(corenn.Tensor(q_sampled), corenn.Tensor(q_data), log_density, temperature, True).data
        x = (q_sampled[0] - log_density) / temperature
        lse = temperature * np.log(np.exp(x).sum(axis=1))
        np.testing.assert_allclose(got, [np.mean(lse - q_data[0])], rtol=1e-6)
    got = cql_gap(corenn.Tensor(q_sampled), corenn.Tensor(q_data), log_density, 1.0, False).data
    with_data = np.concatenate([q_sampled[0], q_data[0][:, None]], axis=1)  # no weights; Q(s, a) joins
    np.testing.assert_allclose(got, [np.mean(np.log(np.exp(with_data).sum(axis=1)) - q_data[0])], rtol=1e-6)


@pytest.mark.parametrize("importance_sampling", [True, False])
def test_cql_gap_passes_gradcheck(importance_sampling):
    rng = np.random.default_rng(0)
    log_density = rng.normal(size=(3, 4))
    assert corenn.gradcheck(lambda qs, qd: cql_gap(qs, qd, log_density, 0.7, importance_sampling),
                            [rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3))])


def test_one_step_loss_is_td_plus_weighted_gap(data):
    model = CQL("MlpPolicy", dataset=data, seed=0, cql_alpha=3.0, **SMALL)
    model.train(gradient_steps=1, batch_size=16)
    logs = model.logger.name_to_value
    n_critics = model.policy.critic.n_critics
    assert logs["train/critic_loss"] == pytest.approx(logs["train/td_loss"] + 3.0 * n_critics * logs["train/cql_gap"],
                                                      rel=1e-5)
    # at initialisation every Q is about 0, so the gap is about log(3N) - log-density terms: positive
    assert logs["train/cql_gap"] > 0 and model._n_updates == 1


def _ood_margin(model, data) -> float:
    """mean over dataset states of (mean Q over uniform actions) - Q(dataset action): how much more the
    critics value actions the data never took."""
    obs = model._features(data.observations[::4])
    acts = model.policy.scale_action(data.actions[::4])
    rng = np.random.default_rng(1)
    with corenn.no_grad():
        q_data = model.policy.critic(obs, acts).data.mean(axis=0)
        q_ood = np.mean([model.policy.critic(obs, rng.uniform(-1, 1, acts.shape).astype(np.float32)).data.mean(axis=0)
                         for _ in range(4)], axis=0)
    return float(np.mean(q_ood - q_data))


def test_cql_values_unseen_actions_lower_than_offline_sac(data):
    margins = {}
    for name, alpha in (("cql", 5.0), ("sac", 0.0)):  # cql_alpha=0 is plain offline SAC, same code and seed
        model = CQL("MlpPolicy", dataset=data, seed=3, cql_alpha=alpha, learning_rate=1e-3, **SMALL)
        model.learn(250)
        margins[name] = _ood_margin(model, data)
    assert margins["cql"] < margins["sac"] - 0.5, margins  # seeds 3, 7: about 1.4 and 1.9 apart
    assert margins["cql"] < 0  # CQL pushes unseen actions below the data's


@pytest.mark.parametrize("target_gap, direction", [(0.0, 1), (1000.0, -1)])
def test_lagrange_alpha_prime_moves_towards_the_target_gap(data, target_gap, direction):
    model = CQL("MlpPolicy", dataset=data, seed=0, lagrange=True, target_action_gap=target_gap, **SMALL)
    assert model.alpha_prime == pytest.approx(1.0)
    model.learn(15)
    assert (model.alpha_prime - 1.0) * direction > 0.002  # up while the gap exceeds the target, else down
    assert "alpha_prime_optimizer" in model.get_parameters()


def test_save_load_predict_identical(data, tmp_path):
    model = CQL("MlpPolicy", dataset=data, seed=0, lagrange=True, target_action_gap=1.0,
                normalize=dict(norm_reward=False), **SMALL)
    model.learn(20)
    path = model.save(tmp_path / "cql")
    loaded = CQL.load(path)
    obs = data.observations[:7]
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0])
    assert loaded.alpha_prime == model.alpha_prime and loaded.num_timesteps == 20 and loaded._n_updates == 20
    assert loaded.cql_alpha == model.cql_alpha and loaded.policy_learning_rate == model.policy_learning_rate
    np.testing.assert_array_equal(loaded.obs_normalizer.obs_rms.mean, model.obs_normalizer.obs_rms.mean)
    before = loaded.obs_normalizer.obs_rms.mean.copy()
    loaded.set_dataset(data)
    loaded.learn(5, reset_num_timesteps=False)  # continues; the saved statistics are kept
    assert loaded.num_timesteps == 25 and np.array_equal(loaded.obs_normalizer.obs_rms.mean, before)


def test_training_in_stages_equals_one_run(data, tmp_path):
    """learn(30) and learn(20) + save + load + learn(10) give the same weights (RNG, optimizers, alpha restored)."""
    kwargs = dict(dataset=data, seed=3, blas_num_threads=1, normalize=dict(norm_reward=False), **SMALL)
    whole = CQL("MlpPolicy", **kwargs).learn(30)
    first = CQL("MlpPolicy", **kwargs).learn(20)
    staged = CQL.load(first.save(tmp_path / "stage1"), dataset=data).learn(10, reset_num_timesteps=False)
    assert staged.num_timesteps == 30
    for (name, a), b in zip(whole.policy.state_dict().items(), staged.policy.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_normalizer_statistics_come_from_the_dataset(data):
    model = CQL("MlpPolicy", dataset=data, seed=0, normalize=dict(norm_reward=False), **SMALL)
    model.learn(1)
    np.testing.assert_allclose(model.obs_normalizer.obs_rms.mean, data.observations.mean(axis=0), atol=1e-4)


def test_bc_steps_train_the_actor_towards_dataset_actions(data):
    model = CQL("MlpPolicy", dataset=data, seed=0, bc_steps=200, policy_learning_rate=3e-3, ent_coef=0.01, **SMALL)
    obs = data.observations[::10]
    err0 = np.mean((model.predict(obs, deterministic=True)[0] - data.actions[::10]) ** 2)
    model.learn(200)
    err = np.mean((model.predict(obs, deterministic=True)[0] - data.actions[::10]) ** 2)
    assert err < 0.5 * err0 and math.isfinite(err)


def test_bad_input_is_refused_clearly(data):
    with pytest.raises(ValueError, match="needs an env or a dataset"):
        CQL("MlpPolicy")
    with pytest.raises(ValueError, match="learn needs a dataset"):
        CQL("MlpPolicy", "Pendulum-v1").learn(1)
    with pytest.raises(ValueError, match="target_action_gap"):
        CQL("MlpPolicy", dataset=data, lagrange=True)
    with pytest.raises(ValueError, match="n_action_samples must be an int in"):
        CQL("MlpPolicy", dataset=data, n_action_samples=0)
    with pytest.raises(ValueError, match="dataset must be a dataset id"):
        CQL("MlpPolicy", dataset=42)
    with pytest.raises(ValueError, match="observation space"):
        CQL("MlpPolicy", "MountainCarContinuous-v0", dataset=data)
    env = gym.make("CartPole-v1")
    discrete = flat_view(OfflineDataset("x", "", env.observation_space, env.action_space,
                                        run_policy(env, lambda o: 0, n_episodes=1), {}))
    with pytest.raises(ValueError, match="Box"):
        CQL("MlpPolicy", dataset=discrete)


def test_cli_trains_cql_from_a_dataset(tmp_path, monkeypatch, capsys):
    pytest.importorskip("h5py")
    from rl.cli import main

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "datasets"))
    assert main(["collect", "--env", "Pendulum-v1", "--kind", "random", "--episodes", "2"]) == 0
    logs = str(tmp_path / "logs")
    assert main(["train", "--algo", "cql", "--env", "Pendulum-v1", "--dataset", "corenn/pendulum/random-v0",
                 "-n", "200", "-f", logs, "--eval-freq", "-1", "--eval-episodes", "1", "-v", "0",
                 "-params", "batch_size:32", "n_action_samples:2", "policy_kwargs:dict(net_arch=[16, 16])"]) == 0
    assert "mean_reward=" in capsys.readouterr().out
    model = CQL.load(f"{logs}/cql/Pendulum-v1_1/Pendulum-v1.npz")
    assert model.num_timesteps == 200 and model.n_action_samples == 2
    # a further stage with -i: 50 more gradient steps on the saved agent, in a new run folder
    assert main(["train", "--algo", "cql", "--env", "Pendulum-v1", "--dataset", "corenn/pendulum/random-v0",
                 "-n", "50", "-f", logs, "--eval-freq", "-1", "--eval-episodes", "1", "-v", "0",
                 "-i", f"{logs}/cql/Pendulum-v1_1/Pendulum-v1.npz"]) == 0
    resumed = CQL.load(f"{logs}/cql/Pendulum-v1_2/Pendulum-v1.npz")
    assert resumed.num_timesteps == 250 and resumed._n_updates == 250 and resumed.n_action_samples == 2
