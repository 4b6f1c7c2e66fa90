"""MBPO (rl/model_based): the dynamics ensemble, model rollouts, the algorithm on a 1-D point mass, files."""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest

import corenn
from corenn import optim
from envs.point_mass_line import PointMassLineEnv
from rl import evaluate_policy
from rl.core.callbacks import BaseCallback
from rl.model_based import MBPO, ModelEnv, ModelReplayBuffer, ProbabilisticEnsemble, fit_ensemble
from rl.model_based.mbpo import truncated_linear
from rl.model_based.termination import hopper, inverted_pendulum, termination_fn_for
from rl.off_policy_actor_critic.policies import SACPolicy

SMALL = dict(learning_starts=40, model_train_freq=20, epoch_length=20, rollouts_per_step=5,
             rollout_schedule=[1, 4, 1, 3], num_sac_updates_per_step=2, ensemble_size=3, num_elites=2,
             dynamics_hidden_size=16, dynamics_num_layers=2, model_max_epochs=3, termination_fn="no_termination",
             policy_kwargs=dict(net_arch=[16, 16]), batch_size=32)


# ----------------------------------------------------------------------------- the ensemble
def test_ensemble_loss_and_gradients_match_torch():
    torch = pytest.importorskip("torch")
    corenn.manual_seed(0)
    model = ProbabilisticEnsemble(3, 2, ensemble_size=4, num_elites=2, hidden_size=8, num_layers=2)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(4, 6, 3)).astype(np.float32), rng.normal(size=(4, 6, 2)).astype(np.float32)
    loss = model.loss(x, y)
    loss.backward()
    params = {n: torch.tensor(p.data, requires_grad=True) for n, p in model.named_parameters()}
    h = torch.tensor(x)
    for i in range(3):
        h = h @ params[f"layers.{i}.weight"] + params[f"layers.{i}.bias"]
        h = torch.nn.functional.silu(h) if i < 2 else h
    lo, hi = params["min_logvar"], params["max_logvar"]
    log_var = hi - torch.nn.functional.softplus(hi - h[..., 2:])
    log_var = lo + torch.nn.functional.softplus(log_var - lo)
    nll = ((h[..., :2] - torch.tensor(y)) ** 2 * torch.exp(-log_var) + log_var).mean(dim=(1, 2)).sum()
    ref = nll + 0.01 * (hi.sum() - lo.sum())
    ref.backward()
    assert float(loss.data) == pytest.approx(float(ref.detach()), rel=1e-5)
    for n, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, params[n].grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=n)


def test_ensemble_fits_a_noisy_linear_system():
    corenn.manual_seed(0)
    rng = np.random.default_rng(0)
    a, b, sigma = rng.normal(size=(2, 3)).astype(np.float32), np.array([0.5, -1.0], np.float32), 0.2
    x = (rng.normal(size=(1200, 3)) * 2.0 + 1.0).astype(np.float32)
    y = x @ a.T + b + sigma * rng.standard_normal((1200, 2)).astype(np.float32)
    model = ProbabilisticEnsemble(3, 2, ensemble_size=4, num_elites=3, hidden_size=32, num_layers=2)
    opt = optim.Adam(model.trainable_parameters(), lr=3e-3)
    result = fit_ensemble(model, opt, x, y, rng, batch_size=128, max_epochs=60, patience=10)
    assert result.n_val == 240 and result.n_train == 960
    assert np.all(result.val_mse < 2.0 * sigma ** 2)  # the noise floor is sigma^2 = 0.04
    # NLL per dimension of a calibrated model: E[(y - m)^2 / var + log var] = 1 + log sigma^2
    assert np.mean(result.val_nll[model.elites]) == pytest.approx(1 + np.log(sigma ** 2), abs=0.35)
    probe = rng.normal(size=(200, 3)).astype(np.float32)
    with corenn.no_grad():
        mean, _ = model(model.normalize(probe))
    assert np.abs(mean.data[model.elites] - (probe @ a.T + b)).mean() < 0.1
    assert model.input_mean == pytest.approx(x.mean(axis=0), abs=1e-4)


def test_log_variance_stays_within_its_bounds():
    corenn.manual_seed(1)
    model = ProbabilisticEnsemble(2, 3, ensemble_size=3, num_elites=2, hidden_size=8, num_layers=1)
    for layer in model.layers:
        layer.weight.data *= 200.0  # huge raw log-variances of both signs
    x = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32) * 50
    with corenn.no_grad():
        _, log_var = model(x)
    # max - softplus(max - v) <= max; then min + softplus(. - min) exceeds max by at most softplus(min - max) ~ 3e-5
    assert log_var.data.min() >= -10.0 and log_var.data.max() <= 0.5 + np.log1p(np.exp(-10.5)) + 1e-6
    assert log_var.data.min() < -9.0 and log_var.data.max() > 0.0  # the clamps are reached, softly


@pytest.mark.parametrize("learned", [True, False])
def test_log_variance_bounds_learned_only_when_asked(learned):
    corenn.manual_seed(2)
    model = ProbabilisticEnsemble(2, 1, ensemble_size=2, num_elites=1, hidden_size=8, num_layers=1,
                                  learn_logvar_bounds=learned)
    opt = optim.Adam(model.trainable_parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2)).astype(np.float32)
    fit_ensemble(model, opt, x, x[:, :1] + 0.1 * rng.normal(size=(300, 1)).astype(np.float32), rng, max_epochs=5)
    moved = not np.allclose(model.max_logvar.data, 0.5) and not np.allclose(model.min_logvar.data, -10.0)
    assert moved == learned


def test_elites_are_the_best_members_on_held_out_data():
    corenn.manual_seed(3)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 2)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0]], np.float32)
    model = ProbabilisticEnsemble(2, 1, ensemble_size=5, num_elites=2, hidden_size=16, num_layers=2)
    fit_ensemble(model, optim.Adam(model.trainable_parameters(), lr=3e-3), x, y, rng, max_epochs=30)
    out = model.layers[-1]
    out.weight.data[[0, 3]] += rng.normal(size=out.weight.data[[0, 3]].shape).astype(np.float32)  # spoil two
    result = fit_ensemble(model, optim.Adam(model.trainable_parameters(), lr=1e-12), x, y, rng, max_epochs=1)
    assert not {0, 3} & set(model.elites.tolist())
    assert set(model.elites.tolist()) == set(np.argsort(result.val_mse)[:2].tolist())


def test_fit_refuses_bad_data():
    model = ProbabilisticEnsemble(2, 1, ensemble_size=2, num_elites=1, hidden_size=4, num_layers=1)
    opt = optim.Adam(model.trainable_parameters())
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="maps 2 inputs to 1 outputs"):
        fit_ensemble(model, opt, np.zeros((5, 3)), np.zeros((5, 1)), rng)
    with pytest.raises(ValueError, match="finite"):
        fit_ensemble(model, opt, np.full((5, 2), np.nan), np.zeros((5, 1)), rng)
    with pytest.raises(ValueError, match="num_elites"):
        ProbabilisticEnsemble(2, 1, ensemble_size=2, num_elites=3)


# ----------------------------------------------------------------------------- model rollouts and buffer
def test_model_buffer_keeps_the_newest_rows_and_grows():
    box = gym.spaces.Box(-1, 1, (2,), np.float32)
    buf = ModelReplayBuffer(5, box, gym.spaces.Box(-1, 1, (1,), np.float32))
    rows = np.arange(7, dtype=np.float32)
    buf.extend(np.stack([rows, rows], 1), rows[:, None], np.stack([rows, rows], 1) + 1, rows, np.zeros(7))
    assert buf.size() == 5 and sorted(buf.observations[:, 0, 0].tolist()) == [2, 3, 4, 5, 6]
    bigger = buf.resized(8)
    assert bigger.size() == 5 and bigger.newest()[3].tolist() == [2, 3, 4, 5, 6]
    assert buf.resized(5) is buf


def test_model_rollout_stops_rows_at_termination():
    corenn.manual_seed(4)
    model = ProbabilisticEnsemble(3, 3, ensemble_size=3, num_elites=2, hidden_size=8, num_layers=1)
    for layer in model.layers:
        layer.weight.data[...] = 0.0
    model.layers[-1].bias.data[..., 0] = 1.0  # every member predicts obs[0] += 1, reward 0, log var -10
    model.layers[-1].bias.data[..., 3:] = -30.0
    buffer = ModelReplayBuffer(100, gym.spaces.Box(-9, 9, (2,)), gym.spaces.Box(-1, 1, (1,)))
    env = ModelEnv(model, lambda next_obs: next_obs[:, 0] >= 2.5)
    start = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]], np.float32)
    stored = env.rollout(start, 5, lambda obs: np.zeros((len(obs), 1), np.float32), buffer, np.random.default_rng(0))
    assert stored == 3 + 2 + 1  # rows from 0, 1, 2 need 3, 2, 1 steps to pass 2.5
    obs, _, next_obs, _, dones = buffer.newest()
    np.testing.assert_allclose(next_obs[:, 0] - obs[:, 0], 1.0, atol=0.05)
    assert dones.sum() == 3


def test_termination_functions_match_the_mujoco_envs():
    pytest.importorskip("mujoco")
    for env_id, fn in (("InvertedPendulum-v5", inverted_pendulum), ("Hopper-v5", hopper)):
        env = gym.make(env_id)
        env.reset(seed=0)
        env.action_space.seed(0)
        for _ in range(300):
            obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
            assert bool(fn(obs[None])[0]) == terminated, env_id
            if terminated or truncated:
                env.reset()
    assert termination_fn_for(None, "Hopper-v4") is hopper
    with pytest.raises(ValueError, match="knows none for the env 'Walker2d-v5'"):
        termination_fn_for(None, "Walker2d-v5")


def test_rollout_schedule():
    assert [truncated_linear(20, 150, 1, 15, e) for e in (1, 20, 85, 150, 400)] == [1, 1, 8, 15, 15]
    assert truncated_linear(1, 1, 1, 4, 0) == 4
    model = MBPO("MlpPolicy", PointMassLineEnv(), **{**SMALL, "rollout_schedule": [1, 3, 1, 5]})
    lengths = []
    for t in (0, 41, 60, 61, 81, 500):
        model.num_timesteps = t
        lengths.append(model.rollout_length())
    assert lengths == [1, 1, 1, 3, 5, 5]
    assert model.model_buffer_capacity() == 5 * 5 * 20 * 1 * 1


# ----------------------------------------------------------------------------- the algorithm
class _BestReturn(BaseCallback):
    """Deterministic return on a fresh env every `every` steps; stops training once it beats `threshold`."""

    def __init__(self, every: int, threshold: float):
        super().__init__()
        self.every, self.threshold, self.best = every, threshold, -np.inf

    def _on_step(self) -> bool:
        if self.num_timesteps % self.every or self.num_timesteps <= self.model.learning_starts:
            return True
        ret, _ = evaluate_policy(self.model, PointMassLineEnv(), n_eval_episodes=1, deterministic=True)
        self.best = max(self.best, ret)
        return self.best <= self.threshold


def test_mbpo_brings_the_point_mass_home():
    # mbrl-lib's MBPO test: a return above -20 * reward_scale (doing nothing scores -30 * reward_scale)
    model = MBPO("MlpPolicy", PointMassLineEnv(), learning_starts=120, model_train_freq=30, epoch_length=30,
                 rollouts_per_step=20, rollout_schedule=[1, 10, 1, 1], num_sac_updates_per_step=10,
                 real_data_ratio=0.5, ent_coef="auto_0.01", target_entropy=-0.05, target_update_interval=1,
                 ensemble_size=5, num_elites=3, dynamics_hidden_size=64, dynamics_num_layers=2, model_max_epochs=50,
                 termination_fn="no_termination", policy_kwargs=dict(net_arch=[64, 64]), seed=0)
    best = _BestReturn(every=30, threshold=-0.02)
    model.learn(420, callback=best)
    assert best.best > -0.02
    assert model.model_buffer.size() > 0


def test_mbpo_save_load_predict_and_exact_resume(tmp_path):
    model = MBPO("MlpPolicy", PointMassLineEnv(), seed=1, **SMALL).learn(100)
    path = model.save(tmp_path / "agent")
    buffers = model.save_replay_buffer(tmp_path / "buffers")
    env_copy = copy.deepcopy(model.env)
    loaded = MBPO.load(path, env=env_copy, force_reset=False)
    loaded.load_replay_buffer(buffers)
    obs = np.random.default_rng(0).normal(size=(6, 2)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0])
    assert loaded.dynamics_model.elites.tolist() == model.dynamics_model.elites.tolist()
    np.testing.assert_array_equal(loaded.dynamics_model.input_std, model.dynamics_model.input_std)
    assert loaded.model_buffer.size() == model.model_buffer.size() > 0
    model.learn(60, reset_num_timesteps=False)
    loaded.learn(60, reset_num_timesteps=False)
    for name, value in model.policy.state_dict().items():
        np.testing.assert_array_equal(value, loaded.policy.state_dict()[name], err_msg=name)
    policy_file = model.policy.save(tmp_path / "policy")
    np.testing.assert_array_equal(SACPolicy.load(policy_file).predict(obs, deterministic=True)[0],
                                  model.predict(obs, deterministic=True)[0])


def test_mbpo_refuses_bad_inputs():
    with pytest.raises(ValueError, match="MBPO supports only Box action spaces"):
        MBPO("MlpPolicy", "CartPole-v1", termination_fn="no_termination")
    with pytest.raises(ValueError, match="knows none for the env 'Pendulum-v1'|pass termination_fn"):
        MBPO("MlpPolicy", "MountainCarContinuous-v0")
    with pytest.raises(ValueError, match="rollout_schedule must be"):
        MBPO("MlpPolicy", PointMassLineEnv(), **{**SMALL, "rollout_schedule": [1, 2, 0]})
    with pytest.raises(ValueError, match="num_elites must be <= ensemble_size"):
        MBPO("MlpPolicy", PointMassLineEnv(), **{**SMALL, "num_elites": 4})
    with pytest.raises(ValueError, match="real_data_ratio must be"):
        MBPO("MlpPolicy", PointMassLineEnv(), **{**SMALL, "real_data_ratio": 1.5})
    with pytest.raises(ValueError, match="unknown termination_fn"):
        MBPO("MlpPolicy", PointMassLineEnv(), **{**SMALL, "termination_fn": "walker"})
