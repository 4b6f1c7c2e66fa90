"""clip_grad_norm_ / clip_grad_value_: in place, PyTorch values."""
import math

import numpy as np
import pytest

from corenn.nn import Parameter
from corenn.nn.utils import clip_grad_norm_, clip_grad_value_


def _params(dtype=np.float32, scale=1.0):
    rng = np.random.default_rng(0)
    ps = [Parameter(np.zeros(s, dtype=dtype)) for s in [(8, 5), (5,), (3, 2, 2), (4,)]]
    for p in ps[:3]:
        p.grad = (scale * rng.standard_normal(p.data.shape)).astype(dtype)
    return ps  # the last one has no grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_parity_with_torch(norm_type, max_norm, dtype):
    torch = pytest.importorskip("torch")
    ps = _params(dtype)
    tps = [torch.zeros(p.data.shape, dtype=getattr(torch, np.dtype(dtype).name)) for p in ps]
    for p, tp in zip(ps, tps):
        tp.grad = None if p.grad is None else torch.from_numpy(p.grad.copy())
    grads = [p.grad for p in ps[:3]]
    total = clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=norm_type, foreach=False)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    assert isinstance(total, float)
    assert math.isclose(total, float(ttotal), rel_tol=rtol)
    for g, p, tp in zip(grads, ps, tps):
        assert p.grad is g  # in place
        np.testing.assert_allclose(g, tp.grad.numpy(), rtol=rtol, atol=0)
    assert ps[3].grad is None


def test_clipped_norm_is_max_norm_and_small_grads_untouched():
    ps = _params(scale=10.0)
    total = clip_grad_norm_(ps, 1.0)
    assert total > 1.0
    new = math.sqrt(sum(float(np.sum(p.grad.astype(np.float64) ** 2)) for p in ps[:3]))
    assert math.isclose(new, 1.0, rel_tol=1e-5)
    before = [p.grad.copy() for p in ps[:3]]
    assert math.isclose(clip_grad_norm_(ps, 2.0), new, rel_tol=1e-6)
    for b, p in zip(before, ps):
        assert np.array_equal(b, p.grad)


def test_single_parameter_and_no_grads():
    p = Parameter(np.zeros(2, dtype=np.float32))
    assert clip_grad_norm_([p], 1.0) == 0.0
    p.grad = np.array([3.0, 4.0], dtype=np.float32)
    assert clip_grad_norm_(p, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad, [0.6, 0.8], rtol=1e-5)


def test_nonfinite_norm():
    p = Parameter(np.zeros(2, dtype=np.float32))
    p.grad = np.array([np.nan, 1.0], dtype=np.float32)
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert math.isnan(clip_grad_norm_([p], 1.0))
    assert np.isnan(p.grad).all()  # PyTorch scales by the NaN coefficient too


def test_clip_grad_value_parity_with_torch():
    torch = pytest.importorskip("torch")
    ps = _params(scale=2.0)
    tps = [torch.zeros(p.data.shape) for p in ps]
    for p, tp in zip(ps, tps):
        tp.grad = None if p.grad is None else torch.from_numpy(p.grad.copy())
    grads = [p.grad for p in ps[:3]]
    assert clip_grad_value_(ps, 0.7) is None
    torch.nn.utils.clip_grad_value_(tps, 0.7)
    for g, p, tp in zip(grads, ps, tps):
        assert p.grad is g and g.dtype == np.float32
        np.testing.assert_array_equal(g, tp.grad.numpy())
    assert max(float(np.abs(g).max()) for g in grads) == pytest.approx(0.7)
