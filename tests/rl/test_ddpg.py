import numpy as np
import pytest

from rl.core.evaluation import evaluate_policy
from rl.core.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise
from rl.off_policy_actor_critic.ddpg import DDPG
from tests.rl.identity_envs import IdentityEnvBox

SMALL = dict(batch_size=64, policy_kwargs=dict(net_arch=[32, 32]))


def test_ddpg_learns_identity_box():
    model = DDPG("MlpPolicy", IdentityEnvBox(eps=0.1), seed=0, learning_starts=100, gamma=0.5,
                 action_noise=NormalActionNoise(np.zeros(1), 0.1 * np.ones(1)), **SMALL)
    model.learn(800)
    mean, _ = evaluate_policy(model, IdentityEnvBox(eps=0.1), n_eval_episodes=4)
    assert mean >= 45


def test_ddpg_is_td3_with_one_critic_and_no_delay():
    model = DDPG("MlpPolicy", IdentityEnvBox(), seed=1, learning_starts=10_000, **SMALL)
    assert model.policy.critic.n_critics == 1 and model.policy_delay == 1
    assert model.target_policy_noise == 0.0
    model.learn(100)
    before = [p.data.copy() for p in model.policy.actor.parameters()]
    model.train(gradient_steps=1, batch_size=32)  # every update moves the actor
    assert any(not np.array_equal(p.data, b) for p, b in zip(model.policy.actor.parameters(), before))


def test_ou_noise_explores_and_resets_per_episode():
    noise = OrnsteinUhlenbeckActionNoise(np.zeros(1), 0.3 * np.ones(1), rng=0)
    model = DDPG("MlpPolicy", IdentityEnvBox(ep_length=5), seed=2, learning_starts=0, action_noise=noise, **SMALL)
    model.learn(20)
    stored = model.replay_buffer.actions[:20, 0, 0]
    assert np.all(np.abs(stored) <= 1.0) and np.std(stored) > 0


def test_ddpg_vectorised_noise_for_several_envs():
    from rl.core.noise import VectorizedActionNoise
    from rl.core.vec_env import make_vec_env

    env = make_vec_env(lambda: IdentityEnvBox(ep_length=5), n_envs=3, seed=0)
    model = DDPG("MlpPolicy", env, seed=3, learning_starts=0,
                 action_noise=NormalActionNoise(np.zeros(1), 0.2 * np.ones(1)), **SMALL)
    assert isinstance(model.action_noise, VectorizedActionNoise)
    model.learn(30)
    assert model.num_timesteps == 30 and model.replay_buffer.size() == 10


def test_ddpg_rejects_discrete_actions():
    with pytest.raises(ValueError, match="DDPG supports only Box action spaces"):
        DDPG("MlpPolicy", "CartPole-v1")
