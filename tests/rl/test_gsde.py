"""gSDE (rl/core/sde_distribution.py) and its use by PPO, A2C, RecurrentPPO and GAIL: gradients, parity with
SB3's StateDependentNoiseDistribution, when the noise is resampled, learning, checkpoints, YAML entries."""
import gymnasium as gym
import numpy as np
import pytest

import corenn
from rl import A2C, PPO, SAC, RecurrentPPO, evaluate_policy, make_vec_env
from rl.core.sde_distribution import StateDependentNoiseDistribution
from rl.hyperparams import HyperparameterError, preprocess_hyperparams, resolve

from .identity_envs import IdentityEnvBox

B, L, A = 5, 4, 3


class ConstantObsEnv(gym.Env):
    """Always the same observation, reward 0, never ends: an action changes only when the noise does."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.full(3, 0.5, np.float32), {}

    def step(self, action):
        return np.full(3, 0.5, np.float32), 0.0, False, False, {}


def _dist(full_std=True, use_expln=False, latent_sde_dim=L):
    dist = StateDependentNoiseDistribution(A, full_std=full_std, use_expln=use_expln)
    dist.latent_sde_dim = latent_sde_dim
    return dist


def _inputs(full_std, seed=0):
    rng = np.random.default_rng(seed)
    log_std = rng.normal(0.0, 1.0, (L, A if full_std else 1))
    log_std[np.abs(log_std) < 0.1] = 0.5  # away from expln's kink at 0
    return rng.normal(size=(B, A)), log_std, rng.normal(size=(B, L)), rng.normal(size=(B, A))


@pytest.mark.parametrize("full_std", [True, False])
@pytest.mark.parametrize("use_expln", [False, True])
def test_log_prob_and_entropy_gradcheck(full_std, use_expln):
    mean, log_std, latent, actions = _inputs(full_std)

    def fn(mean, log_std):
        dist = _dist(full_std, use_expln).proba_distribution(mean, log_std, latent)
        return dist.log_prob(actions), dist.entropy()

    assert corenn.gradcheck(fn, [corenn.tensor(mean, requires_grad=True), corenn.tensor(log_std, requires_grad=True)])


def test_log_prob_is_the_state_dependent_gaussian():
    mean, log_std, latent, actions = _inputs(True)
    dist = _dist().proba_distribution(corenn.tensor(mean), corenn.tensor(log_std), latent)
    var = (latent ** 2) @ np.exp(2 * log_std) + 1e-6  # Var[a_j | s] = sum_i z_i^2 sigma_ij^2 + eps
    want = (-(actions - mean) ** 2 / (2 * var) - 0.5 * np.log(2 * np.pi * var)).sum(-1)
    np.testing.assert_allclose(dist.log_prob(actions).data, want, rtol=1e-10)
    np.testing.assert_allclose(dist.entropy().data, (0.5 * np.log(2 * np.pi * np.e * var)).sum(-1), rtol=1e-10)


@pytest.mark.parametrize("full_std", [True, False])
@pytest.mark.parametrize("use_expln", [False, True])
def test_parity_with_sb3(full_std, use_expln):
    th = pytest.importorskip("torch")
    sb3_distributions = pytest.importorskip("stable_baselines3.common.distributions")
    mean, log_std, latent, _ = _inputs(full_std, seed=1)
    theirs = sb3_distributions.StateDependentNoiseDistribution(A, full_std=full_std, use_expln=use_expln)
    theirs.proba_distribution_net(L, 0.0)
    t_log_std, t_mean = th.tensor(log_std, requires_grad=True), th.tensor(mean, requires_grad=True)
    ours = _dist(full_std, use_expln)
    for batch in (1, B):  # one matrix for all rows, then one per row (per env)
        theirs.sample_weights(t_log_std, batch_size=batch)
        ours.exploration_mat = theirs.exploration_mat.detach().numpy()
        ours.exploration_matrices = theirs.exploration_matrices.detach().numpy()
        theirs.proba_distribution(t_mean, t_log_std, th.tensor(latent))
        c_log_std, c_mean = corenn.tensor(log_std, requires_grad=True), corenn.tensor(mean, requires_grad=True)
        ours.proba_distribution(c_mean, c_log_std, latent)
        actions = theirs.sample().detach().numpy()
        np.testing.assert_allclose(ours.sample(), actions, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(ours.mode(), mean.astype(np.float32))
        t_lp, t_h = theirs.log_prob(th.tensor(actions)), theirs.entropy()
        lp, h = ours.log_prob(actions), ours.entropy()
        np.testing.assert_allclose(lp.data, t_lp.detach().numpy(), rtol=1e-10)
        np.testing.assert_allclose(h.data, t_h.detach().numpy(), rtol=1e-10)
        t_log_std.grad = t_mean.grad = None
        (t_lp.sum() + t_h.sum()).backward()
        (lp.sum() + h.sum()).backward()
        np.testing.assert_allclose(c_log_std.grad, t_log_std.grad.numpy(), rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(c_mean.grad, t_mean.grad.numpy(), rtol=1e-8, atol=1e-12)


def test_noise_net_shapes_and_seeded_matrices():
    dist = StateDependentNoiseDistribution(A)
    net, log_std = dist.proba_distribution_net(L, log_std_init=-1.0, rng=np.random.default_rng(0))
    assert log_std.shape == (L, A) and np.all(log_std.data == -1.0) and net.weight.shape == (A, L)
    dist.sample_weights(log_std, batch_size=3, rng=np.random.default_rng(5))
    first = dist.exploration_matrices.copy()
    assert dist.exploration_mat.shape == (L, A) and first.shape == (3, L, A) and first.dtype == np.float32
    dist.sample_weights(log_std, batch_size=3, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(dist.exploration_matrices, first)  # the Generator passed in decides
    big = StateDependentNoiseDistribution(A, full_std=False)
    _, shared = big.proba_distribution_net(L, log_std_init=np.log(0.3))
    assert shared.shape == (L, 1)
    big.sample_weights(shared, batch_size=20000, rng=np.random.default_rng(0))
    assert big.exploration_matrices.std() == pytest.approx(0.3, rel=0.02)
    with pytest.raises(NotImplementedError, match="squash_output"):
        StateDependentNoiseDistribution(A, squash_output=True)
    with pytest.raises(ValueError, match="batch_size"):
        dist.sample_weights(log_std, batch_size=0)


def _actions_per_step(sde_sample_freq, n_envs=1, n_steps=12, rollouts=1):
    model = PPO("MlpPolicy", make_vec_env(ConstantObsEnv, n_envs=n_envs, seed=0), n_steps=n_steps,
                batch_size=n_steps * n_envs, use_sde=True, sde_sample_freq=sde_sample_freq, seed=0,
                blas_num_threads=1)
    _, callback = model._setup_learn(n_steps * n_envs * rollouts)
    out = []
    for _ in range(rollouts):  # no training in between: only the noise can change an action
        model.collect_rollouts(model.env, callback, model.rollout_buffer, n_steps)
        out.append(model.rollout_buffer.actions.copy())  # (n_steps, n_envs, 2)
    return np.concatenate(out)


def test_noise_is_resampled_every_sde_sample_freq_steps_and_constant_in_between():
    actions = _actions_per_step(4)[:, 0]
    blocks = [actions[i:i + 4] for i in range(0, 12, 4)]
    for block in blocks:
        assert (block == block[0]).all()
    assert not np.allclose(blocks[0][0], blocks[1][0]) and not np.allclose(blocks[1][0], blocks[2][0])


def test_without_sde_sample_freq_noise_changes_only_at_each_rollout():
    actions = _actions_per_step(-1, rollouts=2)[:, 0]
    assert (actions[:12] == actions[0]).all() and (actions[12:] == actions[12]).all()
    assert not np.allclose(actions[0], actions[12])


def test_each_env_has_its_own_exploration_matrix():
    actions = _actions_per_step(-1, n_envs=2, n_steps=4)
    assert (actions == actions[0]).all() and not np.allclose(actions[0, 0], actions[0, 1])


def test_numpy_acting_path_matches_the_tensor_path():
    model = PPO("MlpPolicy", make_vec_env(ConstantObsEnv, n_envs=3, seed=0), n_steps=8, use_sde=True, seed=0,
                policy_kwargs=dict(log_std_init=-1.0))
    policy = model.policy
    policy.reset_noise(3, rng=np.random.default_rng(0))
    obs = np.random.default_rng(1).uniform(-1, 1, (3, 3)).astype(np.float32)
    assert policy._pi_plan is not None
    fast = policy.act(obs)
    policy._pi_plan = None  # force the Tensor path
    slow = policy.act(obs)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_seeded_gsde_runs_reproduce():
    def run():
        model = PPO("MlpPolicy", make_vec_env(IdentityEnvBox, n_envs=2, seed=3), n_steps=32, batch_size=32,
                    n_epochs=2, use_sde=True, sde_sample_freq=4, seed=3, blas_num_threads=1).learn(128)
        return model.policy.log_std.data.copy(), model.rollout_buffer.actions.copy()

    (std_a, act_a), (std_b, act_b) = run(), run()
    np.testing.assert_array_equal(std_a, std_b)
    np.testing.assert_array_equal(act_a, act_b)


def test_ppo_with_gsde_learns_identity_box():
    model = PPO("MlpPolicy", make_vec_env(IdentityEnvBox, n_envs=2, seed=0), n_steps=128, batch_size=64, n_epochs=4,
                learning_rate=3e-3, use_sde=True, sde_sample_freq=4, policy_kwargs=dict(log_std_init=-2.0), seed=0,
                blas_num_threads=1)
    start = model.policy.log_std.data.copy()
    model.learn(6000)
    env = IdentityEnvBox()
    env.reset(seed=123)
    mean, _ = evaluate_policy(model, env, n_eval_episodes=5)
    assert mean >= 48  # out of 50
    assert model.policy.log_std.shape == (64, 1) and not np.array_equal(model.policy.log_std.data, start)


def test_a2c_with_gsde_trains_and_logs_std():
    model = A2C("MlpPolicy", make_vec_env(IdentityEnvBox, n_envs=2, seed=0), n_steps=8, use_sde=True, seed=0,
                policy_kwargs=dict(full_std=False, log_std_init=-1.0)).learn(64)
    assert model.policy.log_std.shape == (64, 1) and model.policy.full_std is False
    assert not np.allclose(model.policy.log_std.data, -1.0)


def test_gsde_saves_loads_and_predicts_identically(tmp_path):
    model = PPO("MlpPolicy", make_vec_env(IdentityEnvBox, n_envs=2, seed=0), n_steps=32, batch_size=32, n_epochs=1,
                use_sde=True, sde_sample_freq=4, seed=0, policy_kwargs=dict(net_arch=[16])).learn(64)
    loaded = PPO.load(model.save(tmp_path / "gsde"))
    assert (loaded.use_sde, loaded.sde_sample_freq) == (True, 4)
    np.testing.assert_array_equal(loaded.policy.log_std.data, model.policy.log_std.data)
    assert loaded.policy.log_std.shape == (16, 1)
    obs = np.random.default_rng(0).uniform(-1, 1, (5, 1)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
    # stochastic actions are a function of the exploration matrix (SB3: load draws a new one)
    for attr in ("exploration_mat", "exploration_matrices"):
        setattr(loaded.policy.action_dist, attr, getattr(model.policy.action_dist, attr).copy())
    np.testing.assert_array_equal(loaded.predict(obs)[0], model.predict(obs)[0])


def test_recurrent_ppo_with_gsde_runs_saves_loads_and_predicts_identically(tmp_path):
    model = RecurrentPPO("MlpLstmPolicy", make_vec_env(IdentityEnvBox, n_envs=2, seed=0), n_steps=16, batch_size=16,
                         n_epochs=1, use_sde=True, sde_sample_freq=4, seed=0,
                         policy_kwargs=dict(lstm_hidden_size=8, net_arch=dict(pi=[8], vf=[8]))).learn(64)
    assert model.policy.log_std.shape == (8, 1) and model.policy.action_dist.exploration_matrices.shape == (2, 8, 1)
    loaded = RecurrentPPO.load(model.save(tmp_path / "lstm_gsde"))
    np.testing.assert_array_equal(loaded.policy.log_std.data, model.policy.log_std.data)
    obs = np.random.default_rng(0).uniform(-1, 1, (2, 1)).astype(np.float32)
    starts = np.ones(2, np.float32)
    a1, s1 = model.predict(obs, episode_start=starts, deterministic=True)
    a2, s2 = loaded.predict(obs, episode_start=starts, deterministic=True)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(s1[0], s2[0])
    loaded.policy.action_dist.exploration_mat = model.policy.action_dist.exploration_mat.copy()
    loaded.policy.action_dist.exploration_matrices = model.policy.action_dist.exploration_matrices.copy()
    np.testing.assert_array_equal(loaded.predict(obs, s1)[0], model.predict(obs, s1)[0])


def test_gail_passes_use_sde_to_its_generator():
    from rl.data import flat_view, random_policy, run_policy
    from rl.data.minari_format import OfflineDataset
    from rl.gail import GAIL

    env = IdentityEnvBox(ep_length=20)
    episodes = run_policy(env, random_policy(env.action_space, 0), n_episodes=2, seed=0)
    demos = flat_view(OfflineDataset("test/box/x-v0", "", env.observation_space, env.action_space, episodes, {}))
    model = GAIL("MlpPolicy", make_vec_env(IdentityEnvBox, n_envs=2, seed=0), demonstrations=demos, n_steps=16,
                 batch_size=16, n_epochs=1, demo_batch_size=16, use_sde=True, sde_sample_freq=4, seed=0,
                 policy_kwargs=dict(net_arch=[8])).learn(64)
    assert model.policy.use_sde and model.policy.log_std.shape == (8, 1)


def test_bad_gsde_settings_raise_clearly():
    with pytest.raises(ValueError, match="continuous"):
        PPO("MlpPolicy", "CartPole-v1", use_sde=True)
    with pytest.raises(ValueError, match="continuous"):
        RecurrentPPO("MlpLstmPolicy", "CartPoleNoVel-v1", use_sde=True)
    with pytest.raises(ValueError, match="squash_output"):
        PPO("MlpPolicy", IdentityEnvBox(), use_sde=True, policy_kwargs=dict(squash_output=True))
    with pytest.raises(ValueError, match="pass use_sde to PPO"):
        PPO("MlpPolicy", IdentityEnvBox(), policy_kwargs=dict(use_sde=True))
    with pytest.raises(ValueError, match="only available when using gSDE"):
        PPO("MlpPolicy", IdentityEnvBox()).policy.reset_noise()
    with pytest.raises(ValueError, match="gSDE"):
        SAC("MlpPolicy", IdentityEnvBox(), use_sde=True)  # off-policy algorithms still refuse it


def test_yaml_use_sde_reaches_on_policy_algorithms_only():
    hp = resolve("ppo", "Pendulum-v1")
    assert (hp.kwargs["use_sde"], hp.kwargs["sde_sample_freq"]) == (True, 4)
    model = PPO(hp.policy, make_vec_env("Pendulum-v1", n_envs=hp.n_envs, seed=0), seed=0, **hp.kwargs)
    assert model.use_sde and model.policy.use_sde and model.policy.log_std.shape == (64, 1)
    assert resolve("a2c", "Pendulum-v1").kwargs["use_sde"] is True
    lstm = resolve("ppo_lstm", "PendulumNoVel-v1").kwargs
    assert (lstm["use_sde"], lstm["sde_sample_freq"]) == (True, 4)
    assert preprocess_hyperparams({"use_sde": True}, algo_cls=PPO) == {"use_sde": True}
    for algo, env_id in (("sac", "Pendulum-v1"), ("reinforce", "CartPole-v1")):
        with pytest.raises(HyperparameterError, match="'use_sde' \\(rl-zoo3\\) is not supported here"):
            resolve(algo, env_id, {"use_sde": True})
    with pytest.raises(HyperparameterError, match="not supported"):
        preprocess_hyperparams({"sde_sample_freq": 4})  # no algorithm named: refused
