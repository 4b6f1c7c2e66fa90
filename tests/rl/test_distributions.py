"""Distributions: log_prob / entropy against direct formulas; sampling; gradients reach the parameters."""
import math

import gymnasium as gym
import numpy as np
import pytest

import corenn
from rl.core.distributions import CategoricalDistribution, DiagGaussianDistribution, make_proba_distribution


def test_categorical_matches_formulas():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 3)).astype(np.float32)
    actions = np.array([0, 2, 1, 1, 0])
    d = CategoricalDistribution(3).proba_distribution(corenn.Tensor(logits))
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(d.log_prob(actions).data, np.log(p[np.arange(5), actions]), rtol=1e-5)
    np.testing.assert_allclose(d.entropy().data, -(p * np.log(p)).sum(1), rtol=1e-5)
    np.testing.assert_array_equal(d.mode(), logits.argmax(1))


def test_categorical_sampling_frequencies():
    logits = np.log(np.array([[0.2, 0.5, 0.3]] * 20000, np.float32))
    d = CategoricalDistribution(3).proba_distribution(corenn.Tensor(logits))
    counts = np.bincount(d.sample(np.random.default_rng(1)), minlength=3) / 20000
    np.testing.assert_allclose(counts, [0.2, 0.5, 0.3], atol=0.015)


def test_diag_gaussian_matches_formulas():
    rng = np.random.default_rng(2)
    mean = rng.normal(size=(4, 2)).astype(np.float32)
    log_std = np.array([-0.5, 0.3], np.float32)
    a = rng.normal(size=(4, 2)).astype(np.float32)
    d = DiagGaussianDistribution(2).proba_distribution(corenn.Tensor(mean), corenn.Tensor(log_std))
    std = np.exp(log_std)
    direct = (-((a - mean) ** 2) / (2 * std ** 2) - np.log(std) - 0.5 * math.log(2 * math.pi)).sum(1)
    np.testing.assert_allclose(d.log_prob(a).data, direct, rtol=1e-5)
    ent = (0.5 + 0.5 * math.log(2 * math.pi) + log_std).sum()
    np.testing.assert_allclose(d.entropy().data, np.full(4, ent), rtol=1e-5)
    np.testing.assert_array_equal(d.mode(), mean)
    samples = DiagGaussianDistribution(2).proba_distribution(
        corenn.Tensor(np.zeros((50000, 2), np.float32)), corenn.Tensor(log_std)).sample(np.random.default_rng(3))
    np.testing.assert_allclose(samples.std(0), std, rtol=0.02)


def test_gradients_reach_parameters():
    mean = corenn.nn.Parameter(np.zeros((3, 2), np.float32))
    log_std = corenn.nn.Parameter(np.zeros(2, np.float32))
    d = DiagGaussianDistribution(2).proba_distribution(mean, log_std)
    (d.log_prob(np.ones((3, 2))).sum() + d.entropy().sum()).backward()
    # d/dmu log N(1; mu, 1) = (1 - mu) = 1 per element; d/dlog_std: (a-mu)^2 - 1 per sample + 1 per sample
    np.testing.assert_allclose(mean.grad, np.ones((3, 2)))
    np.testing.assert_allclose(log_std.grad, np.full(2, 3.0))
    r = d.rsample(np.random.default_rng(0))
    assert r.requires_grad and r.shape == (3, 2)


def test_unsupported_action_spaces():
    with pytest.raises(ValueError, match="MultiDiscrete"):
        make_proba_distribution(gym.spaces.MultiDiscrete([2, 3]))
    with pytest.raises(ValueError, match="1-D"):
        make_proba_distribution(gym.spaces.Box(-1, 1, (2, 2)))
