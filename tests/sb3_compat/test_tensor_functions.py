"""Torch functions that ported SB3 code calls, on corenn tensors (`import corenn as th` in place of torch).

Differentiable ones (cat / concatenate / stack with dim=, clamp, where, Tensor.to between floats) are
gradient-checked in float64; factories (randn_like, zeros_like, ...) build constants, as torch's do.
"""
import numpy as np
import pytest

import corenn as th


def leaf(*shape, seed=0):
    return th.Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("fn", [th.cat, th.concatenate])
def test_cat_takes_dim_like_torch_and_axis_like_numpy(fn):
    a, b = th.randn(2, 3), th.randn(2, 4)
    out = fn([a, b], dim=1)
    assert out.shape == (2, 7)
    np.testing.assert_array_equal(out.numpy(), np.concatenate([a.numpy(), b.numpy()], axis=1))
    assert fn((a, b), axis=-1).shape == (2, 7) and fn([a, a]).shape == (4, 3)
    with pytest.raises(TypeError, match="dim or axis"):
        fn([a, b], dim=1, axis=0)
    with pytest.raises(TypeError, match="sequence"):
        fn(a)


def test_stack_with_dim():
    a, b = th.randn(2, 3), th.randn(2, 3)
    out = th.stack([a, b], dim=-1)
    np.testing.assert_array_equal(out.numpy(), np.stack([a.numpy(), b.numpy()], axis=-1))
    assert th.stack([a, b]).shape == (2, 2, 3)


def test_joining_functions_pass_gradchecks():
    a, b = leaf(2, 3, seed=1), leaf(2, 2, seed=2)
    assert th.gradcheck(lambda x, y: th.cat([x, y], dim=1), [a, b])
    c = leaf(2, 3, seed=3)
    assert th.gradcheck(lambda x, y: th.stack([x, y], dim=1) * 2.0, [a, c])
    assert th.gradcheck(lambda x: th.clamp(x, min=-0.5, max=0.5), [leaf(3, 4, seed=4)])
    assert th.gradcheck(lambda x, y: th.where(x.numpy() > 0, x, y), [a, c])
    assert th.gradcheck(lambda x: x.to(np.float64) * x, [a])


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "randn_like", "rand_like"])
def test_like_factories_follow_shape_and_dtype(name):
    fn = getattr(th, name)
    x = th.Tensor(np.zeros((3, 2), np.float64))
    out = fn(x)
    assert out.shape == (3, 2) and out.dtype == np.float64 and not out.requires_grad
    assert fn(x, dtype=np.float32).dtype == np.float32
    assert fn(th.zeros(4), requires_grad=True).requires_grad


def test_random_like_factories_use_the_seeded_generator():
    x = th.zeros(1000)
    th.manual_seed(7)
    a, u = th.randn_like(x).numpy(), th.rand_like(x).numpy()
    th.manual_seed(7)
    np.testing.assert_array_equal(a, th.randn_like(x).numpy())
    assert abs(a.mean()) < 0.15 and 0.85 < a.std() < 1.15
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.05
    with pytest.raises(TypeError, match="floating"):
        th.randn_like(th.Tensor(np.zeros(3, np.int64)))


def test_full_like_linspace_eye_arange():
    x = th.zeros(2, 2)
    np.testing.assert_array_equal(th.full_like(x, 3.5).numpy(), np.full((2, 2), 3.5, np.float32))
    np.testing.assert_allclose(th.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1.0])
    assert th.linspace(0, 1, 5).dtype == np.float32
    np.testing.assert_array_equal(th.eye(3).numpy(), np.eye(3))
    assert th.eye(2, 3).shape == (2, 3)
    np.testing.assert_array_equal(th.arange(4).numpy(), np.arange(4))
    with pytest.raises(ValueError, match="steps"):
        th.linspace(0, 1, -1)


def test_tensor_conversions_as_torch_code_writes_them():
    x = th.Tensor(np.array([[1.5, -2.0]], np.float32), requires_grad=True)
    assert x.detach().requires_grad is False and x.cpu() is x
    assert x.to("cpu") is x and x.to(device="cpu", dtype=th.float64).dtype == np.float64
    assert x.to(th.Tensor(np.zeros(1, np.float64))).dtype == np.float64
    assert x.long().dtype == np.int64 and x.long().tolist() == [[1, -2]]
    assert x.int().dtype == np.int32 and x.bool().dtype == bool and x.float().dtype == np.float32
    assert x.numpy().shape == (1, 2) and x[0, 0].item() == 1.5 and x.tolist() == [[1.5, -2.0]]
    with pytest.raises(ValueError, match="CPU"):
        x.to("cuda")


def test_no_grad_as_tensor_from_numpy():
    a = np.arange(3.0, dtype=np.float32)
    t = th.from_numpy(a)
    a[0] = 5.0
    assert t.numpy()[0] == 5.0  # shares memory like torch.from_numpy
    assert th.as_tensor(a).dtype == np.float32 and th.as_tensor([1, 2]).dtype == np.float32
    w = leaf(3)
    with th.no_grad():
        y = (w * 2.0).sum()
    assert not y.requires_grad
    assert th.float32 is np.float32 and th.long is np.int64


def test_torch_parity_of_joining_and_factories():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)
    for dim in (0, 1, -1):
        np.testing.assert_array_equal(th.cat([th.Tensor(a), th.Tensor(b)], dim=dim).numpy(),
                                      torch.cat([torch.from_numpy(a), torch.from_numpy(b)], dim=dim).numpy())
        np.testing.assert_array_equal(th.stack([th.Tensor(a), th.Tensor(b)], dim=dim).numpy(),
                                      torch.stack([torch.from_numpy(a), torch.from_numpy(b)], dim=dim).numpy())
    np.testing.assert_allclose(th.linspace(-1, 2, 7).numpy(), torch.linspace(-1, 2, 7).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(th.eye(3, 4).numpy(), torch.eye(3, 4).numpy())
