import numpy as np
import pytest

from rl.core.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise, VectorizedActionNoise


def test_normal_noise_statistics_and_seeding():
    noise = NormalActionNoise(mean=np.array([0.0, 1.0]), sigma=np.array([0.1, 0.5]), rng=0)
    samples = np.stack([noise() for _ in range(20000)])
    assert samples.shape == (20000, 2) and samples.dtype == np.float32
    np.testing.assert_allclose(samples.mean(0), [0.0, 1.0], atol=0.02)
    np.testing.assert_allclose(samples.std(0), [0.1, 0.5], rtol=0.03)
    again = NormalActionNoise(mean=np.array([0.0, 1.0]), sigma=np.array([0.1, 0.5]), rng=0)
    np.testing.assert_array_equal(samples[0], again())


def test_ou_noise_is_correlated_and_resets():
    noise = OrnsteinUhlenbeckActionNoise(mean=np.zeros(1), sigma=0.3 * np.ones(1), rng=1)
    xs = np.array([noise()[0] for _ in range(5000)])
    lag1 = np.corrcoef(xs[:-1], xs[1:])[0, 1]
    assert lag1 > 0.9  # strongly autocorrelated, unlike Gaussian noise
    # stationary std of the discretised OU process: sigma * sqrt(dt / (1 - (1 - theta dt)^2))
    a = 1 - 0.15 * 1e-2
    expected = 0.3 * np.sqrt(1e-2 / (1 - a * a))
    assert 0.5 * expected < xs[1000:].std() < 1.5 * expected
    noise.reset()
    np.testing.assert_array_equal(noise.noise_prev, [0.0])
    warm = OrnsteinUhlenbeckActionNoise(mean=np.zeros(2), sigma=np.ones(2), initial_noise=np.ones(2))
    np.testing.assert_array_equal(warm.noise_prev, [1.0, 1.0])


def test_vectorized_noise_independent_copies():
    base = NormalActionNoise(np.zeros(3), np.ones(3), rng=0)
    vec = VectorizedActionNoise(base, n_envs=4)
    out = vec()
    assert out.shape == (4, 3)
    assert len({tuple(row) for row in out}) == 4
    ou = VectorizedActionNoise(OrnsteinUhlenbeckActionNoise(np.zeros(1), np.ones(1)), n_envs=2)
    ou()
    ou.reset(np.array([True, False]))
    assert ou.noises[0].noise_prev[0] == 0.0 and ou.noises[1].noise_prev[0] != 0.0


def test_bad_arguments():
    with pytest.raises(ValueError, match="non-negative"):
        NormalActionNoise(np.zeros(2), -np.ones(2))
    with pytest.raises(ValueError, match="finite"):
        OrnsteinUhlenbeckActionNoise(np.array([np.nan]), np.ones(1))
    with pytest.raises(ValueError, match="positive"):
        VectorizedActionNoise(NormalActionNoise(np.zeros(1), np.ones(1)), 0)
