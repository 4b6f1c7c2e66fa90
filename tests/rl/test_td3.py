import numpy as np
import pytest

from rl.core.evaluation import evaluate_policy
from rl.core.noise import NormalActionNoise
from rl.off_policy_actor_critic.td3 import TD3
from tests.rl.identity_envs import IdentityEnvBox

SMALL = dict(batch_size=64, policy_kwargs=dict(net_arch=[32, 32]))


def _copy(module):
    return [p.data.copy() for p in module.parameters()]


def _changed(module, before):
    return any(not np.array_equal(p.data, b) for p, b in zip(module.parameters(), before))


def test_td3_learns_identity_box():
    model = TD3("MlpPolicy", IdentityEnvBox(eps=0.1), seed=0, learning_starts=100, gamma=0.5,
                action_noise=NormalActionNoise(np.zeros(1), 0.1 * np.ones(1)), **SMALL)
    model.learn(800)
    mean, _ = evaluate_policy(model, IdentityEnvBox(eps=0.1), n_eval_episodes=4)
    assert mean >= 45


def test_delayed_actor_and_target_updates():
    model = TD3("MlpPolicy", IdentityEnvBox(), seed=1, learning_starts=10_000, policy_delay=2, **SMALL)
    model.learn(200)  # fills the buffer, no updates yet
    assert model._n_updates == 0 and model.replay_buffer.size() == 200
    p = model.policy
    actor, critic, actor_t, critic_t = _copy(p.actor), _copy(p.critic), _copy(p.actor_target), _copy(p.critic_target)
    model.train(gradient_steps=1, batch_size=32)  # update 1: critics only
    assert _changed(p.critic, critic) and not _changed(p.actor, actor)
    assert not _changed(p.actor_target, actor_t) and not _changed(p.critic_target, critic_t)
    model.train(gradient_steps=1, batch_size=32)  # update 2: actor and both targets
    assert _changed(p.actor, actor) and _changed(p.actor_target, actor_t) and _changed(p.critic_target, critic_t)
    for src, tgt, before in zip(p.actor.parameters(), p.actor_target.parameters(), actor_t):
        np.testing.assert_allclose(tgt.data, 0.995 * before + 0.005 * src.data, rtol=1e-5, atol=1e-7)


def test_q1_forward_is_the_first_critic():
    model = TD3("MlpPolicy", IdentityEnvBox(), seed=2, **SMALL)
    obs = np.random.default_rng(0).standard_normal((5, 1)).astype(np.float32)
    act = np.random.default_rng(1).uniform(-1, 1, (5, 1)).astype(np.float32)
    both = model.policy.critic(obs, act).data
    assert both.shape == (2, 5)
    np.testing.assert_allclose(model.policy.critic.q1_forward(obs, act).data, both[0], rtol=1e-6)


def test_target_policy_smoothing_noise_is_clipped(monkeypatch):
    model = TD3("MlpPolicy", IdentityEnvBox(), seed=3, learning_starts=10_000, target_policy_noise=5.0,
                target_noise_clip=0.1, **SMALL)
    model.learn(64)
    clean, noisy = [], []
    actor_t, critic_t = model.policy.actor_target, model.policy.critic_target
    real_actor, real_critic = actor_t.forward, critic_t.forward

    def actor_spy(obs):
        out = real_actor(obs)
        clean.append(out.data.copy())
        return out

    def critic_spy(obs, actions):
        noisy.append(np.asarray(getattr(actions, "data", actions)).copy())
        return real_critic(obs, actions)

    monkeypatch.setattr(actor_t, "forward", actor_spy)
    monkeypatch.setattr(critic_t, "forward", critic_spy)
    model.train(gradient_steps=1, batch_size=256)
    noise = noisy[0] - np.clip(clean[0], -1.0, 1.0)
    assert np.all(np.abs(noisy[0]) <= 1.0)  # smoothed actions stay in the action range
    assert np.all(np.abs(noise) <= 0.1 + 1e-6)  # sigma 5 clipped to target_noise_clip
    assert np.mean(np.abs(np.abs(noise) - 0.1) < 1e-6) > 0.5  # most draws hit the clip


def test_td3_rejects_discrete_actions():
    with pytest.raises(ValueError, match="TD3 supports only Box action spaces; use DQN/PPO for Discrete"):
        TD3("MlpPolicy", "CartPole-v1")
