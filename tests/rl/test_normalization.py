"""Running mean/std and the VecNormalize-equivalent normaliser."""
import numpy as np

from rl.core.normalization import ObsNormalizer, RunningMeanStd


def test_running_mean_std_matches_numpy():
    rng = np.random.default_rng(0)
    data = rng.normal(3.0, 2.0, size=(1000, 3))
    rms = RunningMeanStd((3,), epsilon=1e-8)
    for chunk in np.split(data, 10):
        rms.update(chunk)
    np.testing.assert_allclose(rms.mean, data.mean(0), rtol=1e-6)
    np.testing.assert_allclose(rms.var, data.var(0), rtol=1e-6)


def test_obs_normalisation_and_clip():
    norm = ObsNormalizer((2,), n_envs=4, clip_obs=5.0)
    rng = np.random.default_rng(1)
    for _ in range(200):
        norm.update_obs(rng.normal([10.0, -5.0], [2.0, 0.5], size=(4, 2)))
    out = norm.normalize_obs(np.array([[10.0, -5.0], [1e6, -1e6]]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0], 0.0, atol=0.1)
    np.testing.assert_allclose(out[1], [5.0, -5.0])
    np.testing.assert_allclose(norm.unnormalize_obs(out[:1]), [[10.0, -5.0]], atol=0.3)


def test_reward_normalisation_uses_discounted_return():
    norm = ObsNormalizer((1,), n_envs=1, gamma=0.5, norm_obs=False)
    rewards = [1.0, 1.0, 1.0]
    for r in rewards:
        norm.process_reward(np.array([r]), np.array([False]))
    # returns seen: 1, 1.5, 1.75
    expected_var = np.var([1.0, 1.5, 1.75])
    assert abs(norm.ret_rms.var - expected_var) < 1e-3
    norm.process_reward(np.array([1.0]), np.array([True]))
    assert norm.returns[0] == 0.0


def test_frozen_when_not_training_and_state_round_trip():
    norm = ObsNormalizer((2,), n_envs=1)
    norm.update_obs(np.ones((1, 2)) * 3)
    norm.training = False
    before = norm.obs_rms.mean.copy()
    norm.update_obs(np.ones((1, 2)) * 100)
    np.testing.assert_array_equal(norm.obs_rms.mean, before)
    other = ObsNormalizer((2,), n_envs=1)
    other.load_state_dict(norm.state_dict())
    np.testing.assert_array_equal(other.normalize_obs(np.ones((1, 2))), norm.normalize_obs(np.ones((1, 2))))
