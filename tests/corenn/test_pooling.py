"""Pooling and interpolation ops: float64 gradchecks, PyTorch parity, modules."""
import numpy as np
import pytest

import corenn as cn
from corenn.nn import Flatten
from corenn.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, Upsample
from corenn.ops.pooling import adaptive_avg_pool2d, avg_pool2d, interpolate, max_pool2d, upsample


def distinct(shape, seed=0):
    """Values without ties (spaced 0.1 apart) in a random order."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) * 0.1 - n * 0.05).reshape(shape)


def arr(shape, seed=0):
    return np.random.default_rng(seed).uniform(-2.0, 2.0, shape)


def leaf(a):
    return cn.Tensor(a, requires_grad=True)


# ---- gradchecks (float64, tiny shapes) ---------------------------------------------------------

MAX_CONFIGS = [  # kernel, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False), (3, 1, 1, 1, False), (3, 2, 1, 1, True), ((2, 3), (1, 2), (1, 0), 1, False),
    (2, 2, 0, 2, False), (3, 2, 1, 2, True), (2, 3, 1, 1, True), ((3, 1), (2, 1), (0, 0), (1, 1), True)]


@pytest.mark.parametrize("k,s,p,d,ceil", MAX_CONFIGS)
def test_max_pool2d_gradcheck(k, s, p, d, ceil):
    x = distinct((2, 2, 6, 5))
    cn.gradcheck(lambda t: max_pool2d(t, k, s, p, d, ceil), [leaf(x)])


AVG_CONFIGS = [  # kernel, stride, padding, ceil_mode, count_include_pad
    (2, None, 0, False, True), (3, 1, 1, False, True), (3, 2, 1, True, False), (3, 2, 1, True, True),
    ((2, 3), (1, 2), (1, 1), False, False), (2, 3, 1, True, True)]


@pytest.mark.parametrize("k,s,p,ceil,cip", AVG_CONFIGS)
def test_avg_pool2d_gradcheck(k, s, p, ceil, cip):
    cn.gradcheck(lambda t: avg_pool2d(t, k, s, p, ceil, cip), [leaf(arr((2, 2, 6, 5)))])


@pytest.mark.parametrize("out", [1, (2, 3), (4, 4), (None, 2), (7, 6)])
def test_adaptive_avg_pool2d_gradcheck(out):
    cn.gradcheck(lambda t: adaptive_avg_pool2d(t, out), [leaf(arr((1, 2, 5, 4)))])


INTERP_CONFIGS = [  # size, scale_factor, mode, align_corners
    (None, 2, "nearest", None), ((5, 3), None, "nearest", None), (None, 0.6, "nearest", None),
    ((5, 7), None, "nearest-exact", None), (None, 1.5, "bilinear", False), ((7, 3), None, "bilinear", True),
    ((2, 2), None, "bilinear", False), ((1, 5), None, "bilinear", True), ((3, 2), None, "area", None)]


@pytest.mark.parametrize("size,sf,mode,ac", INTERP_CONFIGS)
def test_interpolate_gradcheck(size, sf, mode, ac):
    cn.gradcheck(lambda t: interpolate(t, size, sf, mode, ac), [leaf(arr((1, 2, 4, 3)))])


def test_unbatched_input_and_dtype():
    x = leaf(distinct((2, 5, 4)).astype(np.float32))
    for fn in (lambda t: max_pool2d(t, 2), lambda t: avg_pool2d(t, 2, 1, 1),
               lambda t: adaptive_avg_pool2d(t, 3), lambda t: upsample(t, scale_factor=2, mode="bilinear")):
        y = fn(x)
        assert y.ndim == 3 and y.data.dtype == np.float32
        x.grad = None
        y.sum().backward()
        assert x.grad.shape == x.shape and x.grad.dtype == np.float32
    cn.gradcheck(lambda t: max_pool2d(t, 2, 1), [leaf(distinct((2, 3, 3)))])


def test_max_pool_first_on_ties_and_no_grad():
    x = leaf(np.ones((1, 1, 2, 2)))
    max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[1, 0], [0, 0]])
    with cn.no_grad():
        assert not max_pool2d(x, 2).requires_grad


def test_errors():
    x = cn.Tensor(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="half"):
        max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="smaller than 1"):
        avg_pool2d(x, 5)
    with pytest.raises(ValueError, match="exactly one"):
        interpolate(x)
    with pytest.raises(ValueError, match="align_corners"):
        interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="N, C, H, W"):
        max_pool2d(cn.Tensor(np.zeros((4, 4))), 2)


# ---- modules -------------------------------------------------------------------------------------

def test_modules_forward_and_repr():
    x = cn.Tensor(arr((2, 3, 8, 8)))
    np.testing.assert_allclose(MaxPool2d(2)(x).data, max_pool2d(x, 2).data)
    np.testing.assert_allclose(AvgPool2d(3, 2, 1, count_include_pad=False)(x).data,
                               avg_pool2d(x, 3, 2, 1, False, False).data)
    assert AdaptiveAvgPool2d((1, 1))(x).shape == (2, 3, 1, 1)
    assert Upsample(scale_factor=2, mode="bilinear")(x).shape == (2, 3, 16, 16)
    assert Flatten()(x).shape == (2, 192) and Flatten(0, 1)(x).shape == (6, 8, 8)
    assert repr(MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(AvgPool2d(3, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=0)"
    assert repr(AdaptiveAvgPool2d(4)) == "AdaptiveAvgPool2d(output_size=4)"
    assert repr(Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert MaxPool2d(2).state_dict() == {}


# ---- PyTorch parity ------------------------------------------------------------------------------

def _parity(ours_fn, theirs_fn, a, atol=1e-10):
    torch = pytest.importorskip("torch")
    x, tx = leaf(a.copy()), torch.tensor(a.copy(), requires_grad=True)
    y, ty = ours_fn(x), theirs_fn(tx)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), atol=atol, rtol=1e-5)
    w = np.random.default_rng(1).standard_normal(y.shape).astype(a.dtype)
    (y * cn.Tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), atol=atol, rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k,s,p,d,ceil", MAX_CONFIGS + [(3, 3, 1, 1, True), (4, 3, 2, 1, True)])
def test_max_pool2d_parity(k, s, p, d, ceil, dtype):
    torch = pytest.importorskip("torch")
    a = np.round(arr((2, 3, 9, 8)), 1).astype(dtype)  # rounding makes ties: first-max order must match
    _parity(lambda t: max_pool2d(t, k, s, p, d, ceil),
            lambda t: torch.nn.functional.max_pool2d(t, k, s, p, d, ceil), a, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k,s,p,ceil,cip", AVG_CONFIGS + [(3, 3, 1, True, False), (4, 3, 2, True, True),
                                                         (5, 2, 2, True, False)])
def test_avg_pool2d_parity(k, s, p, ceil, cip, dtype):
    torch = pytest.importorskip("torch")
    _parity(lambda t: avg_pool2d(t, k, s, p, ceil, cip),
            lambda t: torch.nn.functional.avg_pool2d(t, k, s, p, ceil, cip), arr((2, 3, 9, 8)).astype(dtype),
            atol=1e-10 if dtype == np.float64 else 1e-5)


def test_avg_pool2d_divisor_override_parity():
    torch = pytest.importorskip("torch")
    _parity(lambda t: avg_pool2d(t, 3, 2, 1, divisor_override=4),
            lambda t: torch.nn.functional.avg_pool2d(t, 3, 2, 1, divisor_override=4), arr((1, 2, 7, 6)))


@pytest.mark.parametrize("out", [1, (3, 5), (5, 3), (7, 8), (None, 4), (10, 11), 4])
def test_adaptive_avg_pool2d_parity(out):
    torch = pytest.importorskip("torch")
    _parity(lambda t: adaptive_avg_pool2d(t, out),
            lambda t: torch.nn.functional.adaptive_avg_pool2d(t, out), arr((2, 3, 7, 9)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("size,sf,mode,ac", INTERP_CONFIGS + [
    (None, 3, "nearest", None), (None, (1.7, 0.45), "nearest", None), ((13, 4), None, "nearest", None),
    (None, 2.5, "nearest-exact", None), (None, 2, "bilinear", False), (None, 2, "bilinear", True),
    ((11, 5), None, "bilinear", False), ((3, 9), None, "bilinear", True), (None, 0.4, "bilinear", False),
    (None, (1.3, 2.6), "bilinear", False), ((2, 3), None, "area", None)])
def test_interpolate_parity(size, sf, mode, ac, dtype):
    torch = pytest.importorskip("torch")
    _parity(lambda t: interpolate(t, size, sf, mode, ac),
            lambda t: torch.nn.functional.interpolate(t, size, sf, mode, ac), arr((2, 3, 6, 7)).astype(dtype),
            atol=1e-10 if dtype == np.float64 else 1e-5)


def test_recompute_scale_factor_parity():
    torch = pytest.importorskip("torch")
    for mode in ("nearest", "bilinear"):
        _parity(lambda t, m=mode: interpolate(t, scale_factor=1.55, mode=m, recompute_scale_factor=True),
                lambda t, m=mode: torch.nn.functional.interpolate(t, scale_factor=1.55, mode=m,
                                                                   recompute_scale_factor=True),
                arr((1, 2, 7, 5)))
