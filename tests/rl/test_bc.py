"""Behaviour cloning (rl.bc): the losses (gradient check, PyTorch parity), learning from expert data, save/load,
errors, and `python -m rl train --algo bc --dataset`."""

import gymnasium as gym
import numpy as np
import pytest

import corenn
from rl.bc import BC, bc_loss
from rl.core.checkpoint import CheckpointError, load_agent, save_agent
from rl.core.evaluation import evaluate_policy
from rl.data import FlatDataset, agent_policy, flat_view, load_dataset, random_policy, run_policy, write_dataset

pytest.importorskip("h5py")


def _head(shape, seed=0):
    return corenn.Tensor(np.random.default_rng(seed).normal(size=shape), requires_grad=True)


def test_bc_losses_pass_gradcheck():
    rng = np.random.default_rng(1)
    targets = rng.integers(0, 4, size=5)
    assert corenn.gradcheck(lambda x: bc_loss(x, targets, "ce"), [_head((5, 4))])
    actions = rng.uniform(-1, 1, size=(5, 3))
    assert corenn.gradcheck(lambda m: bc_loss(m, actions, "mse"), [_head((5, 3))])
    assert corenn.gradcheck(lambda m, s: bc_loss((m, s), actions, "nll"), [_head((5, 3)), _head((5, 3), 2)])


def test_bc_losses_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    logits, labels = rng.normal(size=(6, 3)), rng.integers(0, 3, size=6)
    mean, log_std, actions = rng.normal(size=(6, 2)), rng.normal(size=(6, 2)) * 0.5, rng.normal(size=(6, 2))
    t = torch.tensor
    ce = torch.nn.functional.cross_entropy(t(logits), t(labels))
    np.testing.assert_allclose(bc_loss(corenn.Tensor(logits), labels, "ce").item(), ce.item(), rtol=1e-6)
    mse = torch.nn.functional.mse_loss(t(mean), t(actions))
    np.testing.assert_allclose(bc_loss(corenn.Tensor(mean), actions, "mse").item(), mse.item(), rtol=1e-6)
    # torch averages over every element; ours sums over the action dimensions and averages over the batch
    nll = torch.nn.functional.gaussian_nll_loss(t(mean), t(actions), t(np.exp(2 * log_std)), full=True) * 2
    ours = bc_loss((corenn.Tensor(mean), corenn.Tensor(log_std)), actions, "nll").item()
    np.testing.assert_allclose(ours, nll.item(), rtol=1e-6)


def _dataset(tmp_path, env_id, policy_for_env, n_episodes, name, max_steps=None):
    env = gym.make(env_id, **({"max_episode_steps": max_steps} if max_steps else {}))
    episodes = run_policy(env, policy_for_env(env), n_episodes=n_episodes, seed=0)
    write_dataset(name, episodes, env.observation_space, env.action_space, env_spec=env_id, root=tmp_path)
    return flat_view(load_dataset(name, root=tmp_path))


def test_bc_from_ten_zoo_expert_episodes_solves_cartpole(tmp_path):
    agents_zoo = pytest.importorskip("agents_zoo")
    expert = agents_zoo.load("ppo", "CartPole-v1")
    data = _dataset(tmp_path, "CartPole-v1", lambda env: agent_policy(expert), 10, "zoo/cartpole/expert-v0")
    assert len(data) == 5000
    model = BC("MlpPolicy", dataset=data, seed=0, batch_size=64, policy_kwargs=dict(net_arch=[64, 64]))
    model.learn(2000, log_interval=0)
    mean, _ = evaluate_policy(model, gym.make("CartPole-v1"), n_eval_episodes=10, deterministic=True)
    assert mean >= 475


class _LinearExpert:
    """Pendulum: a = clip(-2 * theta_dot / 4, -2, 2), a deterministic function of the observation."""

    def __init__(self, env):
        self.action_space = env.action_space

    def predict(self, obs, deterministic=True):
        return np.clip(np.array([-0.5 * obs[2]], np.float32), -2, 2), None


@pytest.mark.parametrize("loss", ["mse", "nll"])
def test_bc_fits_box_actions_with_either_loss(tmp_path, loss):
    data = _dataset(tmp_path, "Pendulum-v1", lambda env: agent_policy(_LinearExpert(env)), 5,
                    f"lin/pendulum/{loss}-v0", max_steps=60)
    model = BC("MlpPolicy", dataset=data, loss=loss, seed=0, batch_size=64, policy_kwargs=dict(net_arch=[32, 32]))
    before = model.train_step(data.sample(300, np.random.default_rng(5)))["train/mse"]
    model.learn(600, log_interval=0)
    after = model.train_step(data.sample(300, np.random.default_rng(5)))["train/mse"]
    assert after < 0.05 < before
    actions, _ = model.predict(data.observations[:50], deterministic=False)
    assert actions.shape == (50, 1) and np.all(np.abs(actions) <= 2)


@pytest.mark.parametrize("env_id, loss", [("CartPole-v1", "auto"), ("Pendulum-v1", "nll")])
def test_save_load_predict_identical(tmp_path, env_id, loss):
    data = _dataset(tmp_path, env_id, lambda env: random_policy(env.action_space, 0), 2, "rnd/x-v0", max_steps=40)
    model = BC("MlpPolicy", dataset=data, loss=loss, seed=3, batch_size=32, policy_kwargs=dict(net_arch=[16]))
    model.learn(30, log_interval=0)
    path = model.save(tmp_path / "bc")
    loaded = BC.load(path, dataset=data)
    obs = data.observations[:20]
    def same(a, b):
        np.testing.assert_array_equal(a.predict(obs, deterministic=True)[0], b.predict(obs, deterministic=True)[0])

    same(model, loaded)
    assert loaded.num_timesteps == 30 and loaded.loss == loss and loaded.batch_size == 32
    for (name, a), (_, b) in zip(model.policy.named_parameters(), loaded.policy.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    model.learn(5, log_interval=0)  # both continue identically: same weights, optimizer state and sampling RNG
    loaded.learn(5, log_interval=0)
    same(model, loaded)
    compact = BC.load(model.save(tmp_path / "compact", exclude=["optimizer"]), env=env_id)
    same(compact, model)


def test_load_refuses_tampered_or_foreign_files(tmp_path):
    space = gym.spaces.Box(-1, 1, (3,), np.float32)
    data = FlatDataset(np.zeros((4, 3), np.float32), np.zeros(4, np.int64), np.zeros(4, np.float32),
                       np.zeros((4, 3), np.float32), np.zeros(4, bool), np.zeros(4, bool), np.zeros(4, np.int64),
                       space, gym.spaces.Discrete(2))
    path = BC("MlpPolicy", dataset=data, policy_kwargs=dict(net_arch=[8])).save(tmp_path / "bc")
    arrays, meta = load_agent(path)
    for key, value, message in [("hyperparameters", dict(meta["hyperparameters"], loss="l1"), "hyperparameters.loss"),
                                ("unknown_field", 1, "unknown_field"),
                                ("action_space", {"type": "Discrete", "n": 3, "start": 0}, "params/policy")]:
        bad = save_agent(tmp_path / "bad", arrays, dict(meta, **{key: value}))
        with pytest.raises(CheckpointError, match=message):
            BC.load(bad)
    with pytest.raises(CheckpointError, match="not BC"):
        BC.load(save_agent(tmp_path / "ppo", arrays, dict(meta, algo="PPO")))


def test_bc_errors_are_clear():
    space, actions = gym.spaces.Box(-1, 1, (3,), np.float32), gym.spaces.Discrete(2)
    data = FlatDataset(np.zeros((4, 3), np.float32), np.zeros(4, np.int64), np.zeros(4, np.float32),
                       np.zeros((4, 3), np.float32), np.zeros(4, bool), np.zeros(4, bool), np.zeros(4, np.int64),
                       space, actions)
    with pytest.raises(ValueError, match="needs an env or a dataset"):
        BC("MlpPolicy")
    with pytest.raises(ValueError, match="learn needs a dataset"):
        BC("MlpPolicy", "CartPole-v1").learn(1)
    with pytest.raises(ValueError, match="does not fit"):
        BC("MlpPolicy", "Pendulum-v1", dataset=data)
    with pytest.raises(ValueError, match="loss='mse' needs Box actions"):
        BC("MlpPolicy", dataset=data, loss="mse")
    with pytest.raises(ValueError, match="loss must be one of"):
        BC("MlpPolicy", dataset=data, loss="huber")
    with pytest.raises(ValueError, match="batch_size"):
        BC("MlpPolicy", dataset=data, batch_size=0)


def test_cli_trains_bc_from_a_dataset(tmp_path, monkeypatch, capsys):
    from rl.cli import main

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "datasets"))
    assert main(["collect", "--env", "CartPole-v1", "--kind", "random", "--episodes", "3"]) == 0
    logs = str(tmp_path / "logs")
    args = ["train", "--algo", "bc", "--env", "CartPole-v1", "-f", logs, "-n", "40", "--eval-freq", "20",
            "--eval-episodes", "1", "-v", "0"]
    assert main(args + ["--dataset", "corenn/cartpole/random-v0"]) == 0
    out = capsys.readouterr().out
    assert "mean_reward=" in out and "normalised score" in out
    model = BC.load(f"{logs}/bc/CartPole-v1_1/CartPole-v1.npz")
    assert model.num_timesteps == 40
    assert main(args) == 2  # no --dataset
    assert main(args + ["--dataset", "nobody/none-v0"]) == 2
    assert main(["train", "--algo", "bc", "--env", "Pendulum-v1", "-f", logs, "--dataset",
                 "corenn/cartpole/random-v0"]) == 2
    err = capsys.readouterr().err
    assert "add --dataset" in err and "no dataset 'nobody/none-v0'" in err and "recorded on CartPole-v1" in err
