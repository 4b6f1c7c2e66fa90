import math

import numpy as np
import pytest

import corenn
from corenn.nn.functional import fused_linear
from rl.off_policy_actor_critic.policies import LOG_STD_MAX, LOG_STD_MIN, SquashedGaussianActor, squashed_gaussian


def _direct_log_prob(mean, log_std, eps):
    """Change of variables in float64: u ~ N(mean, std), a = tanh(u), p(a) = N(u) / prod(1 - tanh(u)^2)."""
    log_std = np.clip(log_std, LOG_STD_MIN, LOG_STD_MAX)
    std = np.exp(log_std)
    u = mean + std * eps
    log_normal = -0.5 * ((u - mean) / std) ** 2 - log_std - 0.5 * math.log(2 * math.pi)
    jac = np.log(1.0 - np.tanh(u) ** 2)
    return np.tanh(u), (log_normal - jac).sum(-1)


def test_log_prob_matches_change_of_variables():
    rng = np.random.default_rng(0)
    mean, log_std = rng.normal(0, 1, (64, 3)), rng.normal(-0.5, 0.5, (64, 3))
    eps = rng.standard_normal((64, 3))
    a, lp = squashed_gaussian(corenn.Tensor(np.concatenate([mean, log_std], -1)), eps)
    a_ref, lp_ref = _direct_log_prob(mean, log_std, eps)
    np.testing.assert_allclose(a.data, a_ref, rtol=1e-10)
    np.testing.assert_allclose(lp.data, lp_ref, rtol=1e-9, atol=1e-9)


def test_log_prob_matches_torch_transformed_distribution():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    mean, log_std, eps = rng.normal(0, 1, (32, 2)), rng.normal(0, 0.5, (32, 2)), rng.standard_normal((32, 2))
    a, lp = squashed_gaussian(corenn.Tensor(np.concatenate([mean, log_std], -1)), eps)
    base = torch.distributions.Normal(torch.tensor(mean), torch.tensor(np.exp(log_std)))
    dist = torch.distributions.TransformedDistribution(base, [torch.distributions.TanhTransform(cache_size=1)])
    sample = dist.transforms[0](torch.tensor(mean + np.exp(log_std) * eps))  # cached: log_prob inverts exactly
    np.testing.assert_allclose(lp.data, dist.log_prob(sample).sum(-1).numpy(), rtol=1e-8, atol=1e-8)


def test_log_prob_stays_finite_when_saturated():
    # |u| = 30: tanh(u) rounds to 1 in float32, the naive log(1 - a^2) would be -inf
    head = np.array([[30.0, -5.0], [-30.0, -5.0]], np.float32)
    a, lp = squashed_gaussian(corenn.Tensor(head), np.zeros((2, 1), np.float32))
    assert np.all(np.isfinite(lp.data)) and lp.dtype == np.float32
    expected = 5.0 - 0.5 * math.log(2 * math.pi) - 2 * (math.log(2) - 30 - math.log1p(math.exp(-60)))
    np.testing.assert_allclose(lp.data, [expected, expected], rtol=1e-5)
    np.testing.assert_array_equal(np.abs(a.data), 1.0)


def test_gradcheck_actions_and_log_prob():
    rng = np.random.default_rng(2)
    head = corenn.Tensor(rng.normal(0, 0.7, (5, 4)), requires_grad=True)
    head.data[0, 2] = 3.0  # log_std clipped at LOG_STD_MAX: zero gradient there, as torch.clamp
    eps = rng.standard_normal((5, 2))
    assert corenn.gradcheck(lambda h: squashed_gaussian(h, eps), [head])
    assert corenn.gradcheck(lambda h: squashed_gaussian(h, eps)[0], [head])  # log_prob outside the loss
    assert corenn.gradcheck(lambda h: squashed_gaussian(h, eps)[1], [head])  # actions outside the loss
    assert corenn.gradcheck(lambda h: squashed_gaussian(h, eps, with_log_prob=False)[0], [head])


def test_gradcheck_actor_loss_path():
    """Parameters -> MLP -> squashed Gaussian -> alpha * log pi - Q(s, a) with a smooth stand-in Q."""
    corenn.manual_seed(0)
    actor = SquashedGaussianActor(3, 2, net_arch=[4], activation="tanh")
    for p in actor.parameters():
        p.data = p.data.astype(np.float64)
    obs = np.random.default_rng(3).standard_normal((6, 3))
    eps = np.random.default_rng(4).standard_normal((6, 2))
    w_q = np.array([[0.7, -1.3]])
    params = list(actor.parameters())

    def loss(*ps):
        for p, v in zip(params, ps):
            p.data = v.data
        h = obs
        for i, layer in enumerate(actor.net.layers):
            h = fused_linear(h, ps[2 * i], ps[2 * i + 1], layer.activation)
        a, lp = squashed_gaussian(h, eps)
        q = (a * a * w_q).sum(-1)
        return (lp * 0.2 - q).mean()

    inputs = [corenn.Tensor(p.data.copy(), requires_grad=True) for p in params]
    assert corenn.gradcheck(loss, inputs)


def test_actor_samples_in_bounds_and_deterministic_mode():
    corenn.manual_seed(0)
    actor = SquashedGaussianActor(4, 3, net_arch=[16, 16])
    obs = np.random.default_rng(0).standard_normal((100, 4)).astype(np.float32)
    with corenn.no_grad():
        a, lp = actor(obs, rng=np.random.default_rng(0))
        mode, _ = actor(obs, deterministic=True)
    assert a.shape == (100, 3) and lp.shape == (100,) and a.dtype == np.float32
    assert np.all(np.abs(a.data) <= 1.0)
    head = actor.net(obs).data
    np.testing.assert_allclose(mode.data, np.tanh(head[:, :3]), rtol=1e-6)
