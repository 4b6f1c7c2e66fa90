import numpy as np
import pytest

from corenn import nn
from rl.core.polyak import hard_update, polyak_update


def _params(seed, shapes=((3, 4), (4,), (2, 5, 6))):
    rng = np.random.default_rng(seed)
    return [nn.Parameter(rng.standard_normal(s).astype(np.float32)) for s in shapes]


def test_polyak_matches_formula_in_place():
    src, tgt = _params(0), _params(1)
    before = [t.data.copy() for t in tgt]
    buffers = [t.data for t in tgt]
    polyak_update(src, tgt, 0.005)
    for s, t, b, buf in zip(src, tgt, before, buffers):
        np.testing.assert_allclose(t.data, 0.995 * b + 0.005 * s.data, rtol=1e-6, atol=1e-7)
        assert t.data is buf and t.data.dtype == np.float32  # updated in place, no upcast


def test_polyak_repeated_converges_geometrically():
    src, tgt = _params(0, ((5,),)), _params(1, ((5,),))
    gap0 = tgt[0].data - src[0].data
    for _ in range(10):
        polyak_update(src, tgt, 0.1)
    np.testing.assert_allclose(tgt[0].data - src[0].data, gap0 * 0.9 ** 10, rtol=1e-5, atol=1e-6)


def test_tau_one_copies_and_tau_zero_keeps():
    src, tgt = _params(0), _params(1)
    before = [t.data.copy() for t in tgt]
    polyak_update(src, tgt, 0.0)
    for t, b in zip(tgt, before):
        np.testing.assert_array_equal(t.data, b)
    hard_update(src, tgt)
    for s, t in zip(src, tgt):
        np.testing.assert_array_equal(t.data, s.data)


def test_polyak_on_plain_arrays_and_errors():
    a, b = np.ones(3, np.float32), np.zeros(3, np.float32)
    polyak_update([a], [b], 0.25)
    np.testing.assert_allclose(b, 0.25)
    with pytest.raises(ValueError, match="shape"):
        polyak_update([np.ones(2, np.float32)], [np.ones(3, np.float32)], 0.5)
    with pytest.raises(ValueError):
        polyak_update([a, a], [b], 0.5)  # different lengths
