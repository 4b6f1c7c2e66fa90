"""Dict observations with MultiInputPolicy (PPO, A2C, SAC, TD3, DQN on SimpleMultiObsEnv) and HER on
BitFlippingEnv, written as SB3's docs write them with only the package name changed."""
import numpy as np
import pytest

from rl.a2c import A2C
from rl.common.envs import BitFlippingEnv, SimpleMultiObsEnv
from rl.common.evaluation import evaluate_policy
from rl.ddpg import DDPG
from rl.dqn import DQN
from rl.her import GoalSelectionStrategy, HerReplayBuffer
from rl.ppo import PPO
from rl.sac import SAC
from rl.td3 import TD3

OFF_POLICY = dict(learning_starts=8, buffer_size=200, batch_size=8, train_freq=4)


@pytest.mark.parametrize("model_class, kwargs", [
    (PPO, dict(n_steps=16, batch_size=16, n_epochs=1)),
    (A2C, dict(n_steps=4)),
    (DQN, OFF_POLICY),
    (SAC, OFF_POLICY),
    (TD3, OFF_POLICY),
])
def test_multi_input_policy_on_simple_multi_obs_env(model_class, kwargs, tmp_path):
    discrete = model_class in (PPO, A2C, DQN)
    env = SimpleMultiObsEnv(random_start=False, discrete_actions=discrete)
    model = model_class("MultiInputPolicy", env, seed=0, **kwargs)
    model.learn(total_timesteps=32)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(np.asarray(action, dtype=env.action_space.dtype))
    batch = {k: np.stack([v, v]) for k, v in obs.items()}
    assert len(model.predict(batch, deterministic=True)[0]) == 2
    np.testing.assert_allclose(model.policy.predict(obs, deterministic=True)[0], action, rtol=1e-6)
    loaded = model_class.load(model.save(tmp_path / "model"))
    np.testing.assert_allclose(loaded.predict(obs, deterministic=True)[0], action, rtol=1e-6)


def test_her_learns_to_flip_bits():
    """SB3's HER example shape: model_class(policy="MultiInputPolicy", env=env, replay_buffer_class=...)."""
    n_bits = 4
    env = BitFlippingEnv(n_bits=n_bits, continuous=False, max_steps=n_bits)
    model = DQN(policy="MultiInputPolicy", env=env, replay_buffer_class=HerReplayBuffer,
                replay_buffer_kwargs=dict(n_sampled_goal=4, goal_selection_strategy="future"),
                learning_starts=100, exploration_fraction=0.3, learning_rate=1e-3, target_update_interval=100,
                batch_size=64, policy_kwargs=dict(net_arch=[64]), seed=0)
    eval_env = BitFlippingEnv(n_bits=n_bits, max_steps=n_bits)

    def success_rate():
        rewards, _ = evaluate_policy(model, eval_env, n_eval_episodes=40, return_episode_rewards=True)
        return np.mean(np.asarray(rewards) > -n_bits)  # an episode that failed collects -1 on every step

    before = success_rate()
    model.learn(2000)
    after = success_rate()
    assert before < 0.5 and after >= 0.9, (before, after)


def test_her_with_continuous_actions_and_goal_strategies():
    env = BitFlippingEnv(n_bits=3, continuous=True, max_steps=3)
    for strategy in ("future", "final", GoalSelectionStrategy.EPISODE):
        model = DDPG("MultiInputPolicy", env, replay_buffer_class=HerReplayBuffer,
                     replay_buffer_kwargs=dict(n_sampled_goal=2, goal_selection_strategy=strategy),
                     learning_starts=12, buffer_size=200, batch_size=8, seed=0)
        model.learn(24)
        assert isinstance(model.replay_buffer, HerReplayBuffer)
