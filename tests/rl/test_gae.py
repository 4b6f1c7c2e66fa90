"""GAE(lambda) against a hand computation, including a time-limit truncation."""
import numpy as np
import pytest

from rl.core.rollout_buffer import RolloutBuffer, compute_gae

GAMMA, LAM = 0.9, 0.8


def _filled_buffer():
    buf = RolloutBuffer(3, 2, obs_shape=(1,), action_shape=(), action_dtype=np.int64, gamma=GAMMA, gae_lambda=LAM)
    # env 0: a plain episode that continues past the rollout (bootstrap from last value 0.2)
    # env 1: truncated after step 1 with V(final_obs) = 2.0 -> reward 1 + 0.9 * 2.0; new episode at step 2,
    #        which terminates at the last step (no bootstrap from last value 5.0)
    rewards = [[1.0, 1.0], [1.0, 1.0 + GAMMA * 2.0], [1.0, 1.0]]
    values = [[0.5, 1.0], [0.4, 1.5], [0.3, 0.7]]
    starts = [[0, 0], [0, 0], [0, 1]]
    for t in range(3):
        buf.add(np.zeros((2, 1)), np.zeros(2), rewards[t], starts[t], values[t], np.zeros(2))
    buf.compute_returns_and_advantage(last_values=np.array([0.2, 5.0]), dones=np.array([0.0, 1.0]))
    return buf


def test_gae_matches_hand_computation():
    buf = _filled_buffer()
    # env 0: deltas 0.86, 0.87, 0.88; A2 = 0.88, A1 = 0.87 + 0.72*0.88, A0 = 0.86 + 0.72*A1
    a1 = 0.87 + 0.72 * 0.88
    expected0 = [0.86 + 0.72 * a1, a1, 0.88]
    # env 1: t2 terminal: delta 1 - 0.7; t1 ends (truncated, bootstrap already in reward): 2.8 - 1.5;
    #        t0: 1 + 0.9*1.5 - 1.0 + 0.72 * 1.3
    expected1 = [1.35 + 0.72 * 1.3, 1.3, 0.3]
    np.testing.assert_allclose(buf.advantages[:, 0], expected0, rtol=1e-6)
    np.testing.assert_allclose(buf.advantages[:, 1], expected1, rtol=1e-6)
    np.testing.assert_allclose(buf.returns, buf.advantages + buf.values, rtol=1e-6)


def test_lambda_one_gives_discounted_returns():
    r = np.array([[1.0], [2.0], [3.0]], np.float32)
    v = np.array([[0.1], [0.2], [0.3]], np.float32)
    adv, ret = compute_gae(r, v, np.zeros_like(r), np.array([4.0]), np.array([0.0]), 0.5, 1.0)
    np.testing.assert_allclose(ret[:, 0], [1 + 0.5 * 2 + 0.25 * 3 + 0.125 * 4, 2 + 0.5 * 3 + 0.25 * 4, 3 + 0.5 * 4])


def test_minibatches_cover_buffer_once():
    buf = _filled_buffer()
    rng = np.random.default_rng(0)
    seen = np.concatenate([b.advantages for b in buf.get(2, rng)])
    np.testing.assert_allclose(np.sort(seen), np.sort(buf.advantages.ravel()))
    (full,) = list(buf.get(None, rng))
    assert full.observations.shape == (6, 1) and full.actions.shape == (6,)


def test_buffer_guards():
    buf = RolloutBuffer(1, 1, (1,), ())
    with pytest.raises(RuntimeError, match="fill it"):
        next(buf.get(1, np.random.default_rng(0)))
    buf.add(np.zeros((1, 1)), np.zeros(1), [0.0], [1.0], [0.0], [0.0])
    with pytest.raises(RuntimeError, match="full"):
        buf.add(np.zeros((1, 1)), np.zeros(1), [0.0], [1.0], [0.0], [0.0])


def test_rollout_bootstraps_truncation_but_not_termination():
    """End to end: a truncated step gets gamma * V(final_obs) added to its reward; a terminated one does not."""
    import gymnasium as gym

    from rl import PPO

    class Chain(gym.Env):
        """Reward 1 per step; terminates after 2 steps when started with obs 0, else truncated at 3."""
        observation_space = gym.spaces.Box(-10, 10, (1,), np.float32)
        action_space = gym.spaces.Discrete(2)

        def __init__(self, terminate):
            self.terminate, self.t = terminate, 0

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            self.t = 0
            return np.zeros(1, np.float32), {}

        def step(self, action):
            self.t += 1
            obs = np.full(1, self.t, np.float32)
            return obs, 1.0, self.terminate and self.t == 2, (not self.terminate) and self.t == 3, {}

    env = gym.vector.SyncVectorEnv([lambda: Chain(True), lambda: Chain(False)],
                                   autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    model = PPO("MlpPolicy", env, n_steps=4, batch_size=8, gamma=0.5, seed=0)
    seen = []

    def fake_values(features):
        seen.append(features.copy())
        return features[:, 0] * 10.0  # V(obs) = 10 * obs

    model.policy.predict_values = fake_values
    _, callback = model._setup_learn(8)
    model.collect_rollouts(model.env, callback, model.rollout_buffer, 4)
    r = model.rollout_buffer.rewards
    # env 0 terminates at t=2 (index 1): plain reward; env 1 is truncated at t=3 (index 2): 1 + 0.5 * V(3) = 16
    np.testing.assert_allclose(r[:, 0], [1.0, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(r[:, 1], [1.0, 1.0, 16.0, 1.0])
    np.testing.assert_allclose(model.rollout_buffer.episode_starts[:, 0], [1, 0, 1, 0])
    np.testing.assert_allclose(model.rollout_buffer.episode_starts[:, 1], [1, 0, 0, 1])
