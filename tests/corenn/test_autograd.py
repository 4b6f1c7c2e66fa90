"""Autograd mechanics: accumulation, no_grad, deep graphs, dtypes and clear errors."""
import numpy as np
import pytest

import corenn as cn


def test_float32_default_and_float64_kept():
    assert cn.Tensor([1.0, 2.0]).dtype == np.float32
    assert cn.tensor(3.0).dtype == np.float32
    assert cn.Tensor(np.zeros(3)).dtype == np.float64
    t = cn.Tensor(np.ones((2, 3), dtype=np.float32))
    assert t.shape == (2, 3) and t.ndim == 2 and t.T.shape == (3, 2)
    assert np.asarray(t) is t.data and t.numpy() is t.data
    assert cn.Tensor([[2.0]]).item() == 2.0


def test_scalars_do_not_upcast_float32():
    x = cn.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = (x * 2.0 + 1.0) / 3.0 - 0.5
    y = y ** 2 + 2.0 ** x
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_gradients_accumulate_and_reused_nodes():
    x = cn.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * x
    z = y + y * 3.0  # y used twice
    z.sum().backward()
    np.testing.assert_allclose(x.grad, 8 * x.data)
    (x * 1.0).sum().backward()
    np.testing.assert_allclose(x.grad, 8 * x.data + 1)


def test_shared_leaf_gradients_are_independent_arrays():
    a = cn.Tensor(np.ones(3), requires_grad=True)
    b = cn.Tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    a.grad *= 10  # in-place clipping of one must not touch the other
    np.testing.assert_allclose(b.grad, np.ones(3))


def test_deep_chain_has_no_recursion_limit():
    x = cn.Tensor(np.array([0.5]), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0])


def test_no_grad_builds_no_graph():
    w = cn.Tensor(np.ones((3, 3)), requires_grad=True)
    with cn.no_grad():
        y = (cn.Tensor(np.ones((2, 3))) @ w).relu().sum()
    assert not y.requires_grad and y._parents == () and y._backward is None
    assert cn.is_grad_enabled()

    @cn.no_grad()
    def act(x):
        return (x @ w).tanh()
    out = act(cn.Tensor(np.ones((1, 3))))
    assert out._parents == () and not out.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_detach_and_requires_grad_():
    x = cn.Tensor(np.ones(2), requires_grad=True)
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.is_leaf
    v = cn.Tensor(np.ones(2)).requires_grad_()
    (v * 3.0).sum().backward()
    np.testing.assert_allclose(v.grad, [3, 3])
    with pytest.raises(TypeError, match="floating-point"):
        cn.Tensor(np.arange(3)).requires_grad_()


def test_backward_twice_without_retain_graph_errors():
    x = cn.Tensor(np.ones(2), requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, [4, 4])
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_backward_non_scalar_needs_grad():
    x = cn.Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2.0).backward()
    (x * 2.0).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(x.grad, [2, 4, 6])


def test_matmul_shape_mismatch_is_clear():
    with pytest.raises(ValueError, match=r"not aligned: 3 .* != 4"):
        cn.Tensor(np.ones((2, 3))) @ cn.Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match="features"):
        cn.nn.Linear(4, 2)(cn.Tensor(np.ones((2, 3))))


def test_cross_entropy_rejects_float_class_indices():
    with pytest.raises(TypeError, match="integers"):
        cn.nn.functional.cross_entropy(cn.Tensor(np.ones((2, 3))), np.array([0.0, 1.0]))
    with pytest.raises(IndexError, match="outside"):
        cn.nn.functional.cross_entropy(cn.Tensor(np.ones((2, 3))), np.array([0, 3]))


def test_reshape_error_names_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        cn.Tensor(np.ones((2, 3))).reshape(4)


def test_comparisons_and_methods():
    x = cn.Tensor(np.array([[1.0, -2.0], [3.0, 0.5]]))
    assert (x > 0).data.tolist() == [[True, False], [True, True]]
    assert x.argmax(axis=1).data.tolist() == [0, 0]
    np.testing.assert_allclose(x.sum(dim=0, keepdim=True).data, [[4.0, -1.5]])
    np.testing.assert_allclose(x.var().data, np.var(x.data, ddof=1), rtol=1e-6)
    np.testing.assert_allclose(x.softmax(dim=-1).data.sum(-1), [1, 1], rtol=1e-6)
