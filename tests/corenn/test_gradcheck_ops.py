"""Every differentiable op gradient-checked in float64, over several shapes incl. broadcasting."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corenn as cn
from corenn import ops
from corenn.gradcheck import GradcheckError

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True)
small_shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


def arr(shape, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def positive(shape, seed=0):
    return arr(shape, seed, 0.3, 2.0)


def away_from_zero(shape, seed=0):
    a = arr(shape, seed)
    return np.where(np.abs(a) < 0.2, 0.5, a)


def broadcast_pair(shape):
    """A second shape that broadcasts against ``shape`` (drops leading dims, sets some to 1)."""
    return tuple(1 if i % 2 else n for i, n in enumerate(shape))[1:] if shape else ()


@SETTINGS
@given(small_shapes)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum", "pow"])
def test_binary_ops_broadcasting(op, shape):
    other = broadcast_pair(shape)
    a, b = away_from_zero(shape, 1), away_from_zero(other, 2)
    if op == "pow":
        a, b = positive(shape, 1), positive(other, 2)
    if op in ("maximum", "minimum"):
        b = b + 0.05  # no ties
    fn = getattr(ops, op)
    cn.gradcheck(fn, [cn.Tensor(a, requires_grad=True), cn.Tensor(b, requires_grad=True)])
    cn.gradcheck(fn, [cn.Tensor(b, requires_grad=True), cn.Tensor(a, requires_grad=True)])


@pytest.mark.parametrize("expr", [
    lambda x: x + 2.0, lambda x: 2.0 - x, lambda x: x * 3.0, lambda x: 3.0 / x, lambda x: x / 4.0,
    lambda x: -x, lambda x: x ** 3, lambda x: x ** 2, lambda x: 2.0 ** x, lambda x: abs(x)])
def test_scalar_operators(expr):
    cn.gradcheck(expr, [cn.Tensor(away_from_zero((3, 2)), requires_grad=True)])


@SETTINGS
@given(small_shapes)
@pytest.mark.parametrize("name,data", [
    ("exp", arr), ("log", positive), ("sqrt", positive), ("abs", away_from_zero),
    ("relu", away_from_zero), ("leaky_relu", away_from_zero), ("elu", away_from_zero),
    ("sigmoid", arr), ("log_sigmoid", arr), ("tanh", arr), ("gelu", arr), ("silu", arr),
    ("softplus", arr), ("hardtanh", lambda s, seed=0: arr(s, seed, -0.95, 0.95) * 1.5)])
def test_unary_ops(name, data, shape):
    x = data(shape)
    if name == "hardtanh":
        x = np.where(np.abs(np.abs(x) - 1) < 0.05, 0.5, x)
    cn.gradcheck(getattr(ops, name), [cn.Tensor(x, requires_grad=True)])


def test_gelu_tanh_and_softplus_options():
    x = cn.Tensor(arr((4, 3)), requires_grad=True)
    cn.gradcheck(lambda t: ops.gelu(t, approximate="tanh"), [x])
    cn.gradcheck(lambda t: ops.softplus(t, beta=2.0, threshold=3.0), [cn.Tensor(arr((4, 3)) * 3)])


def test_prelu_and_clip_and_where():
    x = cn.Tensor(away_from_zero((4, 3, 2)), requires_grad=True)
    w = cn.Tensor(np.array([0.1, 0.3, -0.2]), requires_grad=True)
    cn.gradcheck(ops.prelu, [x, w])
    y = away_from_zero((5, 4))
    y = np.where(np.abs(np.abs(y) - 1) < 0.1, 0.0, y)
    cn.gradcheck(lambda t: ops.clip(t, -1.0, 1.0), [cn.Tensor(y, requires_grad=True)])
    cond = arr((5, 4), 3) > 0
    cn.gradcheck(lambda a, b: ops.where(cond, a, b),
                 [cn.Tensor(arr((5, 4)), requires_grad=True), cn.Tensor(arr((4,)), requires_grad=True)])


@SETTINGS
@given(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple), st.booleans(), st.data())
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "var", "std", "logsumexp"])
def test_reductions(name, shape, keepdims, data):
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    x = np.random.default_rng(len(shape)).permutation(np.arange(np.prod(shape), dtype=float)).reshape(shape)
    x = x * 0.37 + 0.1  # distinct values: no ties for max/min
    if name in ("var", "std"):
        n = np.prod(shape) if axis is None else shape[axis]
        if n < 2:
            return
    fn = getattr(ops, name)
    cn.gradcheck(lambda t: fn(t, axis=axis, keepdims=keepdims), [cn.Tensor(x, requires_grad=True)])


def test_reductions_multi_axis_and_max_ties():
    x = cn.Tensor(arr((2, 3, 4)), requires_grad=True)
    cn.gradcheck(lambda t: ops.sum(t, axis=(0, 2)), [x])
    cn.gradcheck(lambda t: ops.mean(t, axis=(1, 2), keepdims=True), [x])
    t = cn.Tensor(np.array([1.0, 3.0, 3.0]), requires_grad=True)
    t.max().backward()
    np.testing.assert_allclose(t.grad, [0, 0.5, 0.5])


@pytest.mark.parametrize("axis", [0, -1, 1])
def test_softmax_family(axis):
    x = cn.Tensor(arr((3, 4, 2)), requires_grad=True)
    cn.gradcheck(lambda t: ops.softmax(t, axis), [x])
    cn.gradcheck(lambda t: ops.log_softmax(t, axis), [x])


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.sampled_from(["2d", "batched", "bcast", "vec"]))
def test_matmul(n, k, m, kind):
    if kind == "2d":
        a, b = arr((n, k)), arr((k, m), 1)
    elif kind == "batched":
        a, b = arr((2, n, k)), arr((2, k, m), 1)
    elif kind == "bcast":
        a, b = arr((2, 1, n, k)), arr((3, k, m), 1)
    else:
        a, b = arr((k,)), arr((2, k, m), 1)
    cn.gradcheck(ops.matmul, [cn.Tensor(a, requires_grad=True), cn.Tensor(b, requires_grad=True)])
    cn.gradcheck(ops.matmul, [cn.Tensor(arr((n, k)), requires_grad=True), cn.Tensor(arr((k,)), requires_grad=True)])


def test_linear_fused():
    x, w, b = arr((2, 3, 4)), arr((5, 4), 1), arr((5,), 2)
    cn.gradcheck(ops.linear, [cn.Tensor(x, requires_grad=True), cn.Tensor(w, requires_grad=True),
                              cn.Tensor(b, requires_grad=True)])


def test_movement_ops():
    x = cn.Tensor(arr((2, 3, 4)), requires_grad=True)
    cn.gradcheck(lambda t: t.reshape(4, 6), [x])
    cn.gradcheck(lambda t: t.permute(2, 0, 1), [x])
    cn.gradcheck(lambda t: t.transpose(0, 2), [x])
    cn.gradcheck(lambda t: t.T, [x])
    cn.gradcheck(lambda t: ops.flatten(t, 1), [x])
    cn.gradcheck(lambda t: t[:, 1:, ::2], [x])
    cn.gradcheck(lambda t: t[np.array([0, 1, 1]), np.array([2, 0, 2])], [x])
    cn.gradcheck(lambda t: t[..., 1], [x])
    cn.gradcheck(lambda t: ops.pad(t, ((0, 0), (1, 2), (2, 0)), value=1.5), [x])
    cn.gradcheck(lambda t: t.unsqueeze(1).squeeze(1), [x])
    cn.gradcheck(lambda t: ops.squeeze(t[:, :1], 1), [x])
    cn.gradcheck(lambda t: t[:, :1].expand(2, 5, 4), [x])
    cn.gradcheck(lambda t: ops.split(t, [1, 3], axis=2)[1] * 2.0, [x])
    cn.gradcheck(lambda t: ops.split(t, 2, axis=1)[-1], [x])


def test_concatenate_and_stack():
    a = cn.Tensor(arr((2, 3)), requires_grad=True)
    b = cn.Tensor(arr((2, 1), 1), requires_grad=True)
    cn.gradcheck(lambda p, q: ops.concatenate([p, q], axis=1), [a, b])
    cn.gradcheck(lambda p, q: ops.stack([p, q * 2.0], axis=1), [a, cn.Tensor(arr((2, 3), 2), requires_grad=True)])


def test_fused_cross_entropy_and_normalize():
    logits = cn.Tensor(arr((5, 4)), requires_grad=True)
    y = np.array([0, 3, 1, 1, 2])
    for kw in ({}, {"label_smoothing": 0.1}, {"reduction": "sum"}, {"reduction": "none"}):
        cn.gradcheck(lambda z, kw=kw: ops.cross_entropy(z, y, **kw), [logits])
    probs = np.random.default_rng(0).dirichlet(np.ones(4), size=5)
    cn.gradcheck(lambda z: ops.cross_entropy(z, probs), [logits])
    cn.gradcheck(lambda z: ops.cross_entropy(z, np.array([0, -100, 1, 2, -100])), [logits])
    cn.gradcheck(lambda z: ops.cross_entropy(z, np.array([[0, 1], [2, 0]])), [cn.Tensor(arr((2, 3, 2)))])
    cn.gradcheck(lambda t: ops.normalize(t, (1,))[0], [cn.Tensor(arr((3, 5)), requires_grad=True)])
    cn.gradcheck(lambda t: ops.normalize(t, (0, 2))[0], [cn.Tensor(arr((4, 2, 3)), requires_grad=True)])


def test_gradcheck_detects_a_wrong_gradient():
    from corenn.ops.common import node

    def bad_square(x):
        return node(x.data ** 2, (x,), lambda g: (g * x.data,))  # should be 2 * x
    with pytest.raises(GradcheckError, match="gradcheck failed"):
        cn.gradcheck(bad_square, [cn.Tensor(arr((3,)), requires_grad=True)])
    assert cn.gradcheck(bad_square, [cn.Tensor(arr((3,)), requires_grad=True)], raise_exception=False) is False


@pytest.mark.parametrize("activation", [None, "relu", "tanh"])
@pytest.mark.parametrize("shapes", [
    ((4, 3), (3, 2), (2,)),            # one layer
    ((4, 3), (5, 3, 2), (5, 1, 2)),    # an ensemble of 5 sharing the input
    ((5, 4, 3), (5, 3, 2), (5, 1, 2)),  # an ensemble with its own inputs
    ((4, 3), (5, 3, 2), (2,)),         # one bias shared by the members
    ((5, 4, 3), (3, 2), (2,))])        # one layer applied to 5 batches
def test_fused_linear(activation, shapes):
    x, w, b = (cn.Tensor(away_from_zero(s, i), requires_grad=True) for i, s in enumerate(shapes))
    cn.gradcheck(lambda x, w, b: ops.fused_linear(x, w, b, activation), [x, w, b])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_take_min(axis):
    cn.gradcheck(lambda t: ops.take_min(t, axis), [cn.Tensor(arr((3, 4)), requires_grad=True)])
