import gymnasium as gym
import numpy as np
import pytest

from rl.core.evaluation import evaluate_policy
from rl.off_policy_actor_critic.sac import SAC, EntropyCoefficient
from tests.rl._offpolicy_helpers import CaptureLogs
from tests.rl.identity_envs import IdentityEnvBox

SMALL = dict(learning_starts=100, batch_size=64, policy_kwargs=dict(net_arch=[32, 32]))


def test_sac_learns_identity_box():
    # the observation does not depend on the action, so a short horizon (gamma 0.5) keeps targets tame
    model = SAC("MlpPolicy", IdentityEnvBox(eps=0.1), seed=0, learning_rate=1e-3, gamma=0.5, ent_coef="auto_0.1",
                **SMALL)
    model.learn(800)
    mean, _ = evaluate_policy(model, IdentityEnvBox(eps=0.1), n_eval_episodes=4)
    assert mean >= 45  # 50 is perfect; a random policy scores ~5


@pytest.mark.parametrize("target_entropy, direction", [(-1.0, -1), (3.0, +1)])
def test_entropy_coefficient_moves_toward_target(target_entropy, direction):
    # A fresh tanh-Gaussian on [-1, 1] has entropy between -1 and log 2: alpha shrinks for target -1
    # and grows for an unreachable target of +3.
    model = SAC("MlpPolicy", IdentityEnvBox(), seed=1, ent_coef="auto_0.5", target_entropy=target_entropy,
                learning_rate=1e-3, **SMALL)
    model.learn(400)
    alpha = float(np.exp(model.log_ent_coef.data[0]))
    assert (alpha - 0.5) * direction > 0.05


def test_entropy_coefficient_from_spec():
    fixed = EntropyCoefficient.from_spec(0.2, target_entropy=-1.0, learning_rate=1e-3)
    assert not fixed.learned and fixed.value == 0.2 and fixed.log_ent_coef is None and fixed.optimizer is None
    auto = EntropyCoefficient.from_spec("auto", -1.0, 1e-3)
    assert auto.learned and auto.value == pytest.approx(1.0) and auto.log_ent_coef.shape == (1,)
    assert EntropyCoefficient.from_spec("auto_0.1", -1.0, 1e-3).value == pytest.approx(0.1, rel=1e-6)
    assert EntropyCoefficient.from_spec(0.0, -1.0, 1e-3).value == 0.0  # no entropy bonus
    for bad in ("auto_0", "auto_-1", -0.5, "fixed"):
        with pytest.raises(ValueError):
            EntropyCoefficient.from_spec(bad, -1.0, 1e-3)


def test_entropy_coefficient_loss_and_its_gradient():
    # L = -mean(log_alpha * (log_prob + H)): dL/dlog_alpha = -(mean(log_prob) + H). Here the entropy
    # estimate -mean(log_prob) = 0.5 is below the target 2, so one step raises alpha.
    coef = EntropyCoefficient.from_spec("auto_0.5", target_entropy=2.0, learning_rate=1e-2)
    log_prob = np.array([1.0, -3.0, 0.5], np.float32)
    loss = coef.loss(log_prob)
    np.testing.assert_allclose(loss.data, -np.log(0.5) * (log_prob.mean() + 2.0), rtol=1e-6)
    coef.optimizer.zero_grad()
    loss.backward()
    np.testing.assert_allclose(coef.log_ent_coef.grad, [-(log_prob.mean() + 2.0)], rtol=1e-6)
    coef.optimizer.step()
    assert coef.value > 0.5


def test_fixed_entropy_coefficient_and_update_counts():
    logs = CaptureLogs()
    model = SAC("MlpPolicy", IdentityEnvBox(ep_length=10), seed=2, ent_coef=0.05, **SMALL)
    model.learn(300, callback=logs, log_interval=1)
    assert model.log_ent_coef is None and model.ent_coef_optimizer is None
    assert model._n_updates == 200  # trains when num_timesteps > learning_starts
    keys = logs.keys
    for key in ("train/actor_loss", "train/critic_loss", "train/ent_coef", "train/n_updates",
                "train/learning_rate", "rollout/ep_rew_mean", "rollout/ep_len_mean", "time/fps", "time/episodes"):
        assert key in keys, key
    assert logs.capture.dumps[-1][1]["train/ent_coef"] == pytest.approx(0.05)
    assert logs.capture.dumps[-1][1]["train/n_updates"] == 199  # dumped at the episode end, before that train()


def test_train_freq_episodes_and_gradient_steps_minus_one():
    model = SAC("MlpPolicy", IdentityEnvBox(ep_length=7), seed=3, train_freq=(2, "episode"), gradient_steps=-1,
                **dict(SMALL, learning_starts=0))
    model.learn(70)
    assert model.num_timesteps == 70 and model._n_updates == 70  # 5 rollouts of 2 episodes x 7 steps


def test_predict_respects_action_bounds():
    class ShiftedBox(IdentityEnvBox):
        def __init__(self):
            super().__init__()
            self.action_space = gym.spaces.Box(np.array([2.0], np.float32), np.array([6.0], np.float32))

    model = SAC("MlpPolicy", ShiftedBox(), seed=4, **SMALL)
    model.learn(150)
    single, _ = model.predict(np.zeros(1, np.float32))
    batch, _ = model.predict(np.zeros((9, 1), np.float32), deterministic=True)
    assert single.shape == (1,) and batch.shape == (9, 1)
    assert np.all((batch >= 2.0) & (batch <= 6.0)) and 2.0 <= single[0] <= 6.0
    stored = model.replay_buffer.actions[:150, 0]
    assert np.all(np.abs(stored) <= 1.0)  # the buffer keeps actions scaled to [-1, 1]


def test_sac_rejects_discrete_actions_and_gsde():
    with pytest.raises(ValueError, match="SAC supports only Box action spaces; use DQN/PPO for Discrete"):
        SAC("MlpPolicy", "CartPole-v1")
    with pytest.raises(ValueError, match="gSDE"):
        SAC("MlpPolicy", IdentityEnvBox(), use_sde=True)
    with pytest.raises(ValueError, match="train_freq"):
        SAC("MlpPolicy", IdentityEnvBox(), train_freq=(1, "epoch"))


def test_twin_critics_are_independent_networks():
    model = SAC("MlpPolicy", IdentityEnvBox(), seed=5, **SMALL)
    critic = model.policy.critic
    obs, act = np.zeros((4, 1), np.float32), np.full((4, 1), 0.3, np.float32)
    q = critic(obs, act).data
    assert q.shape == (2, 4) and not np.allclose(q[0], q[1])
    target = model.policy.critic_target
    np.testing.assert_array_equal(target(obs, act).data, q)  # target starts as a copy
    assert not any(p.requires_grad for p in target.parameters())


def test_subnormal_optimizer_moments_are_flushed():
    model = SAC("MlpPolicy", IdentityEnvBox(), seed=6, **SMALL)
    model.learn(110)  # a few updates create the Adam state
    state = next(iter(model.policy.critic.optimizer.state.values()))
    state["exp_avg"].reshape(-1)[:3] = [1e-40, -1e-41, 0.5]
    model._flush_subnormal_optimizer_state()
    np.testing.assert_array_equal(state["exp_avg"].reshape(-1)[:3], [0.0, 0.0, 0.5])
