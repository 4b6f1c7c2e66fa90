import numpy as np
import pytest

from corenn.utils.math_utils import log_sigmoid, log_softmax, logsumexp, sigmoid, softmax, softplus


def naive_softmax(x, axis):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_matches_naive_formula(axis):
    x = np.random.default_rng(0).normal(size=(4, 5, 3))
    np.testing.assert_allclose(softmax(x, axis=axis), naive_softmax(x, axis), rtol=1e-12)
    np.testing.assert_allclose(log_softmax(x, axis=axis), np.log(naive_softmax(x, axis)), rtol=1e-12)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_matches_naive_formula(axis, keepdims):
    x = np.random.default_rng(1).normal(size=(3, 4, 2))
    expected = np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    out = logsumexp(x, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_extreme_values_do_not_overflow():
    x = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]])
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        s = softmax(x)
        ls = log_softmax(x)
        lse = logsumexp(x, axis=1)
        sg = sigmoid(x)
        lsg = log_sigmoid(x)
        sp = softplus(x)
    np.testing.assert_allclose(s[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(s[1], [1 / 3] * 3)
    np.testing.assert_allclose(ls[0], [0.0, -1e4, -2e4])
    np.testing.assert_allclose(lse, [1e4, -1e4 + np.log(3)])
    np.testing.assert_allclose(sg[0], [1.0, 0.5, 0.0])
    np.testing.assert_allclose(lsg[0], [0.0, -np.log(2), -1e4])
    np.testing.assert_allclose(sp[0], [1e4, np.log(2), 0.0], atol=1e-300)
    for a in (s, ls, lse, sg, lsg, sp):
        assert np.all(np.isfinite(a))


def test_sigmoid_matches_naive_on_moderate_values():
    x = np.linspace(-30, 30, 101)
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(softplus(x), np.log1p(np.exp(x)), rtol=1e-12)
    np.testing.assert_allclose(log_sigmoid(x), -np.log1p(np.exp(-x)), rtol=1e-12)


def test_dtypes_preserved_and_ints_promoted():
    x32 = np.array([[1.0, 2.0, 3e4]], dtype=np.float32)
    for fn in (softmax, log_softmax, sigmoid, softplus, log_sigmoid):
        assert fn(x32).dtype == np.float32
    assert logsumexp(x32, axis=1).dtype == np.float32
    assert softmax(np.array([1, 2, 3])).dtype == np.float64
    np.testing.assert_allclose(softmax([0, 0]), [0.5, 0.5])


def test_logsumexp_infinities():
    assert logsumexp(np.array([-np.inf, -np.inf])) == -np.inf
    assert logsumexp(np.array([np.inf, 0.0])) == np.inf
    np.testing.assert_allclose(logsumexp(np.array([-np.inf, 0.0])), 0.0)
