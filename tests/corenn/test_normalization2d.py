"""BatchNorm2d and GroupNorm: gradchecks, running statistics, state dicts, PyTorch parity."""
import numpy as np
import pytest

import corenn as cn
from corenn.nn.normalization import BatchNorm2d, GroupNorm


def arr(shape, seed=0):
    return np.random.default_rng(seed).uniform(-2.0, 2.0, shape)


def leaf(a):
    return cn.Tensor(a, requires_grad=True)


def to_float64(module):
    for p in module.parameters():
        p.data = p.data.astype(np.float64)
    for name in ("running_mean", "running_var"):
        if getattr(module, name, None) is not None:
            setattr(module, name, getattr(module, name).astype(np.float64))
    return module


def randomise_affine(module, tmodule, dtype, seed=3):
    import torch
    rng = np.random.default_rng(seed)
    for p, tp in zip(module.parameters(), tmodule.parameters()):
        p.data = (rng.uniform(0.5, 1.5, p.shape) * rng.choice([-1, 1], p.shape)).astype(dtype)
        tp.data = torch.tensor(p.data)


# ---- gradchecks -------------------------------------------------------------------------------

def affine_fn(module):
    """fn(x, weight, bias) running ``module`` with the given tensors as its affine parameters."""
    def fn(t, w, b):
        object.__setattr__(module, "weight", w)  # plain attributes: the gradients land on w and b
        object.__setattr__(module, "bias", b)
        return module(t)
    return fn


@pytest.mark.parametrize("train", [True, False])
def test_batchnorm2d_gradcheck(train):
    bn = to_float64(BatchNorm2d(3))
    bn.running_mean, bn.running_var = arr(3, 7), np.abs(arr(3, 8)) + 0.5
    bn.train(train)
    cn.gradcheck(affine_fn(bn), [leaf(arr((2, 3, 3, 2))), leaf(arr(3, 5)), leaf(arr(3, 6))])
    cn.gradcheck(BatchNorm2d(3, affine=False, track_running_stats=False), [leaf(arr((3, 3, 2, 2)))])


@pytest.mark.parametrize("groups,channels,shape", [(1, 4, (2, 4, 2, 3)), (2, 4, (2, 4, 3, 2)), (4, 4, (1, 4, 3, 3)),
                                                   (3, 6, (2, 6, 5)), (2, 4, (3, 4))])
def test_groupnorm_gradcheck(groups, channels, shape):
    cn.gradcheck(affine_fn(GroupNorm(groups, channels)),
                 [leaf(arr(shape)), leaf(arr(channels, 1)), leaf(arr(channels, 2))])


# ---- running statistics, modes, state dict -----------------------------------------------------

def test_batchnorm2d_running_stats_and_state_dict():
    bn = BatchNorm2d(2, momentum=0.5)
    x = arr((4, 2, 3, 3)).astype(np.float32)
    bn(cn.Tensor(x))
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(bn.running_mean, 0.5 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var, 0.5 + 0.5 * var, rtol=1e-5)
    assert bn.running_mean.dtype == np.float32 and int(bn.num_batches_tracked) == 1
    state = bn.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    other = BatchNorm2d(2)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.running_var, bn.running_var)
    bn.eval()
    before = bn.running_mean.copy()
    y = bn(cn.Tensor(x))
    np.testing.assert_array_equal(bn.running_mean, before)
    expected = (x - bn.running_mean.reshape(1, -1, 1, 1)) / np.sqrt(bn.running_var.reshape(1, -1, 1, 1) + 1e-5)
    np.testing.assert_allclose(y.data, expected, rtol=1e-5, atol=1e-6)
    assert y.data.dtype == np.float32
    nostats = BatchNorm2d(2, affine=False, track_running_stats=False).eval()
    assert nostats.state_dict() == {} and list(nostats.parameters()) == []
    np.testing.assert_allclose(nostats(cn.Tensor(x)).data.mean(axis=(0, 2, 3)), 0, atol=1e-6)


def test_errors_and_repr():
    with pytest.raises(ValueError, match="BatchNorm2d"):
        BatchNorm2d(3)(cn.Tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="more than 1 value"):
        BatchNorm2d(3)(cn.Tensor(np.zeros((1, 3, 1, 1))))
    with pytest.raises(ValueError, match="divisible"):
        GroupNorm(3, 4)
    with pytest.raises(ValueError, match="GroupNorm"):
        GroupNorm(2, 4)(cn.Tensor(np.zeros((2, 3, 2, 2))))
    assert repr(BatchNorm2d(3)) == "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    assert repr(GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05, affine=True)"


# ---- PyTorch parity ---------------------------------------------------------------------------

def _check_step(y, ty, x, tx, params, seed, atol):
    import torch
    np.testing.assert_allclose(y.data, ty.detach().numpy(), atol=atol, rtol=1e-5)
    w = np.random.default_rng(seed).standard_normal(y.shape).astype(y.data.dtype)
    (y * cn.Tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), atol=atol, rtol=1e-5)
    for p, tp in params:
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), atol=atol * 10, rtol=1e-5)
        p.grad, tp.grad = None, None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("momentum,affine,track", [(0.1, True, True), (0.3, False, True), (None, True, True),
                                                   (0.1, True, False)])
def test_batchnorm2d_parity(momentum, affine, track, dtype):
    torch = pytest.importorskip("torch")
    bn = BatchNorm2d(3, momentum=momentum, affine=affine, track_running_stats=track)
    tbn = torch.nn.BatchNorm2d(3, momentum=momentum, affine=affine, track_running_stats=track)
    if dtype == np.float64:
        bn, tbn = to_float64(bn), tbn.double()
    if affine:
        randomise_affine(bn, tbn, dtype)
    params = list(zip(bn.parameters(), tbn.parameters()))
    atol = 1e-10 if dtype == np.float64 else 2e-5
    for step in range(4):
        a = (arr((4, 3, 5, 3), step) * (step + 1) + step).astype(dtype)
        x, tx = leaf(a), torch.tensor(a, requires_grad=True)
        _check_step(bn(x), tbn(tx), x, tx, params, step, atol)
        if track:
            np.testing.assert_allclose(bn.running_mean, tbn.running_mean.numpy(), rtol=1e-5, atol=atol)
            np.testing.assert_allclose(bn.running_var, tbn.running_var.numpy(), rtol=1e-5, atol=atol)
            assert int(bn.num_batches_tracked) == int(tbn.num_batches_tracked) == step + 1
    bn.eval()
    tbn.eval()
    a = arr((2, 3, 4, 4), 9).astype(dtype) * 3
    x, tx = leaf(a), torch.tensor(a, requires_grad=True)
    _check_step(bn(x), tbn(tx), x, tx, params, 9, atol)
    if track:
        state = bn.state_dict()
        for k, v in tbn.state_dict().items():
            np.testing.assert_allclose(state[k], v.numpy(), rtol=1e-5, atol=atol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("groups,channels,shape,affine", [(1, 6, (2, 6, 3, 4), True), (2, 6, (3, 6, 4, 2), True),
                                                          (6, 6, (2, 6, 3, 3), True), (3, 6, (2, 6, 5, 5), False),
                                                          (2, 4, (2, 4, 7), True)])
def test_groupnorm_parity(groups, channels, shape, affine, dtype):
    torch = pytest.importorskip("torch")
    gn, tgn = GroupNorm(groups, channels, affine=affine), torch.nn.GroupNorm(groups, channels, affine=affine)
    if dtype == np.float64:
        gn, tgn = to_float64(gn), tgn.double()
    if affine:
        randomise_affine(gn, tgn, dtype)
    a = (arr(shape) * 2 + 1).astype(dtype)
    x, tx = leaf(a), torch.tensor(a, requires_grad=True)
    _check_step(gn(x), tgn(tx), x, tx, list(zip(gn.parameters(), tgn.parameters())), 0,
                1e-10 if dtype == np.float64 else 2e-5)
