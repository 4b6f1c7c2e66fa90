"""Autograd mechanics: accumulation, no_grad, deep graphs, dtypes and clear errors."""
import threading

import numpy as np
import pytest

import corenn as cn
from corenn.autograd import unbroadcast


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


def test_grad_mode_is_per_thread():
    """As in PyTorch: no_grad in one thread leaves another thread's graph building alone."""
    w = cn.Tensor(np.ones((3, 3)), requires_grad=True)
    entered, release, seen = threading.Event(), threading.Event(), {}

    def hold_no_grad():
        with cn.no_grad():
            seen["worker"] = cn.is_grad_enabled(), (cn.Tensor(np.ones((1, 3))) @ w).requires_grad
            entered.set()
            release.wait(5)

    worker = threading.Thread(target=hold_no_grad)
    worker.start()
    assert entered.wait(5)
    assert cn.is_grad_enabled() and (cn.Tensor(np.ones((1, 3))) @ w).requires_grad  # main thread unaffected
    release.set()
    worker.join()
    assert seen["worker"] == (False, False)


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


# ---- unbroadcast ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4,), (3, 1), (1, 4), (1, 1), (), (2, 3, 4), (1, 3, 1)])
def test_unbroadcast_matches_manual_sum(shape):
    full = np.broadcast_shapes(shape, (2, 3, 4))
    rng = np.random.default_rng(0)
    grad = rng.normal(size=full)
    out = unbroadcast(grad, shape)
    assert out.shape == shape
    # the sum of grad * (broadcast of v) equals sum of unbroadcast(grad) * v for any v
    v = rng.normal(size=shape)
    np.testing.assert_allclose(np.sum(grad * np.broadcast_to(v, full)), np.sum(out * v))


def test_unbroadcast_identity_and_errors():
    g = np.ones((2, 3))
    assert unbroadcast(g, (2, 3)) is g
    with pytest.raises(ValueError, match="fewer dims"):
        unbroadcast(np.ones(3), (2, 3))
    with pytest.raises(ValueError, match="cannot be reduced"):
        unbroadcast(np.ones((2, 3)), (2, 4))


# ---- Function ------------------------------------------------------------------------------------
class Exp(cn.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class ScaledMul(cn.autograd.Function):
    """scale * a * b with NumPy broadcasting; records needs_input_grad and skips unneeded grads."""
    seen = []

    @staticmethod
    def forward(ctx, a, b, scale=1.0):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        ScaledMul.seen.append(ctx.needs_input_grad)
        return scale * a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = unbroadcast(g * ctx.scale * b, a.shape) if need_a else None
        gb = unbroadcast(g * ctx.scale * a, b.shape) if need_b else None
        return ga, gb


class TanhGaussian(cn.autograd.Function):
    """(tanh(mean + exp(log_std) * eps), its log-density) from one head [mean | log_std] (B, 2A)."""

    @staticmethod
    def forward(ctx, head, eps):
        n = head.shape[-1] // 2
        mean, log_std = head[:, :n], head[:, n:]
        std_eps = np.exp(log_std) * eps
        a = np.tanh(mean + std_eps)
        log_prob = (-0.5 * eps * eps - log_std - np.log(1.0 - a * a)).sum(-1) - n * 0.5 * np.log(2 * np.pi)
        ctx.save_for_backward(a, std_eps)
        return a, log_prob

    @staticmethod
    def backward(ctx, g_a, g_lp):
        a, std_eps = ctx.saved_tensors
        gu = g_a * (1.0 - a * a) + g_lp[:, None] * (2.0 * a)  # d(-log(1 - tanh(u)^2))/du = 2 tanh(u)
        return np.concatenate([gu, gu * std_eps - g_lp[:, None]], axis=-1)


def t64(shape, seed=0, requires_grad=True):
    return cn.Tensor(np.random.default_rng(seed).uniform(-1.0, 1.0, shape), requires_grad=requires_grad)


def test_function_single_input_gradcheck():
    x = t64((3, 4))
    y = Exp.apply(x)
    np.testing.assert_allclose(y.data, np.exp(x.data))
    assert isinstance(y, cn.Tensor) and y.requires_grad and not y.is_leaf
    cn.gradcheck(Exp.apply, [x])
    cn.gradcheck(lambda t: Exp.apply(t * 2.0).sum(axis=0), [t64((2, 3))])  # as an interior node


def test_function_two_inputs_broadcasting_and_non_tensor_args():
    a, b = t64((3, 4), 1), t64((4,), 2)
    cn.gradcheck(lambda p, q: ScaledMul.apply(p, q, 2.5), [a, b])
    cn.gradcheck(lambda p, q: ScaledMul.apply(q, p, scale=-0.5), [a, b])
    cn.gradcheck(lambda p, q: ScaledMul.apply(p, b=q), [a, t64((3, 1), 3)])  # a Tensor keyword
    np.testing.assert_allclose(ScaledMul.apply(a, b, 2.5).data, 2.5 * a.data * b.data)


def test_function_needs_input_grad():
    a, b = t64((2, 3), 1), t64((3,), 2, requires_grad=False)
    ScaledMul.seen.clear()
    out = ScaledMul.apply(a, b)
    out.sum().backward()
    assert ScaledMul.seen == [(True, False)]
    np.testing.assert_allclose(a.grad, np.broadcast_to(b.data, (2, 3)))
    assert b.grad is None
    ScaledMul.apply(a, 3.0)
    assert ScaledMul.seen[-1] == (True,)  # non-Tensor arguments are not inputs


def test_function_multiple_outputs_gradcheck():
    head, eps = t64((5, 6), 1), np.random.default_rng(2).standard_normal((5, 3))
    a, log_prob = TanhGaussian.apply(head, eps)
    assert a.shape == (5, 3) and log_prob.shape == (5,) and a.requires_grad and log_prob.requires_grad
    cn.gradcheck(lambda h: TanhGaussian.apply(h, eps), [head])  # both outputs reach the loss
    cn.gradcheck(lambda h: TanhGaussian.apply(h, eps)[0], [head])  # log_prob's gradient: zeros
    cn.gradcheck(lambda h: TanhGaussian.apply(h, eps)[1] * 3.0, [head])


def test_function_multiple_outputs_materialize_and_retain_graph():
    received = []

    class Pair(cn.autograd.Function):
        @staticmethod
        def forward(ctx, x, materialize):
            ctx.set_materialize_grads(materialize)
            return x * 2.0, x * 3.0

        @staticmethod
        def backward(ctx, g1, g2):
            received.append((g1, g2))
            return (0.0 if g1 is None else 2.0 * g1) + (0.0 if g2 is None else 3.0 * g2)

    x = t64((4,))
    y1, _ = Pair.apply(x, True)
    y1.sum().backward()
    np.testing.assert_array_equal(received[-1][1], np.zeros(4))
    np.testing.assert_allclose(x.grad, np.full(4, 2.0))
    x.grad = None
    _, y2 = Pair.apply(x, False)
    y2.sum().backward()
    assert received[-1][0] is None
    np.testing.assert_allclose(x.grad, np.full(4, 3.0))
    x.grad = None
    y1, y2 = Pair.apply(x, True)
    loss = (y1 + y2 * 2.0).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad, np.full(4, 16.0))
    assert len(received) == 4  # one backward call per pass, whatever the number of outputs used


def test_function_under_no_grad_builds_nothing():
    import weakref
    ctxs = []

    class Keep(cn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctxs.append(weakref.ref(ctx))
            return x + 1.0, x - 1.0

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 + g2

    x = t64((3,))
    with cn.no_grad():
        y = Exp.apply(x)
        outs = Keep.apply(x)
    for t in (y, *outs):
        assert not t.requires_grad and t.is_leaf and t._parents == ()
    assert ctxs[-1]() is None  # no reference to ctx was kept
    outs = Keep.apply(t64((3,), requires_grad=False))  # no input requires grad
    assert not outs[0].requires_grad and ctxs[-1]() is None
    outs = Keep.apply(x)
    assert outs[0].requires_grad and ctxs[-1]() is not None


# ---- gradient shapes are checked at every node -------------------------------------------------
class WrongShape(cn.autograd.Function):
    """Returns a (3, 4) gradient for a (4,) input: it would broadcast, but it is wrong."""

    @staticmethod
    def forward(ctx, x):
        return np.broadcast_to(x, (3, 4)).copy()

    @staticmethod
    def backward(ctx, g):
        return g


def test_wrong_shaped_gradient_fails_at_its_own_function():
    w = t64((4,))
    y = (WrongShape.apply(w * 2.0) * 3.0).sum()  # an interior node: nothing would reach a leaf
    with pytest.raises(RuntimeError, match=r"backward of WrongShape returned a gradient of shape "
                                           r"\(3, 4\) for input 0 of shape \(4,\)"):
        y.backward()
    with pytest.raises(RuntimeError, match=r"backward of WrongShape .* \(3, 4\) .* \(4,\)"):
        WrongShape.apply(w).sum().backward()  # the input is a leaf: no silent sum either


def test_wrong_shaped_gradient_fails_at_its_own_op():
    from corenn.ops.common import node

    def broken_mul(a, b):
        def backward(g):
            return g * b.data, g * a.data  # forgot to unbroadcast b's gradient
        return node(a.data * b.data, (a, b), backward)

    a, b = t64((3, 4), 1), t64((4,), 2)
    # closure ops are named by where they are defined: test_...<locals>.broken_mul.<locals>.backward
    with pytest.raises(RuntimeError, match=r"backward of test_wrong_shaped_gradient_fails_at_its_own_op"
                                           r"\.broken_mul returned a gradient of shape "
                                           r"\(3, 4\) for input 1 of shape \(4,\)"):
        (broken_mul(a * 1.0, b * 1.0) + 1.0).sum().backward()

    def two_for_one(x):
        return node(x.data * 2.0, (x,), lambda g: (g, g))
    with pytest.raises(RuntimeError, match=r"backward of \S*two_for_one returned 2 gradient\(s\) for 1 input"):
        two_for_one(a).sum().backward()

    class TooMany(Exp):
        @staticmethod
        def backward(ctx, g):
            return g, g
    with pytest.raises(RuntimeError, match="backward of TooMany returned 2 gradient"):
        TooMany.apply(a).sum().backward()


def test_gradients_take_their_tensors_dtype():
    w = cn.Tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    h = cn.Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    x = np.random.default_rng(0).standard_normal((4, 3))  # float64 data meets float32 weights
    ((cn.Tensor(x) @ w) * h).sum().backward()
    ((cn.Tensor(x) @ w) * h).sum().backward()
    assert w.grad.dtype == np.float32 and h.grad.dtype == np.float32
    np.testing.assert_allclose(w.grad, 2 * x.sum(0)[:, None] * np.ones((3, 2)), rtol=1e-5)


def test_backward_returning_no_tuple_or_no_array_names_the_op():
    from corenn.ops.common import node
    x = t64((3,))

    def forgot_return(x):
        def backward(g):
            g * 2.0
        return node(x.data * 2.0, (x,), backward)
    with pytest.raises(RuntimeError, match=r"backward of \S*forgot_return returned a NoneType, not a tuple"):
        forgot_return(x).sum().backward()

    class PythonFloat(Exp):
        @staticmethod
        def backward(ctx, g):
            return 1.0
    with pytest.raises(RuntimeError, match=r"backward of PythonFloat returned a float \(not an ndarray\)"):
        PythonFloat.apply(x).sum().backward()
