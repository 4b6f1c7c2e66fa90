"""Double backward: corenn.autograd.grad(create_graph=True), gradgradcheck per op, and WGAN-GP's
gradient penalty against central differences and PyTorch."""
import numpy as np
import pytest

import corenn as cn
import corenn.nn.functional as F
from corenn.autograd import grad, register_tensor_backward
from corenn.gradcheck import GradcheckError, gradgradcheck
from corenn.ops.common import node


def _t(rng, *shape, low=None, high=None):
    data = rng.standard_normal(shape) if low is None else rng.uniform(low, high, shape)
    return cn.Tensor(data, requires_grad=True)


def _away_from_zero(rng, *shape):
    """Values with |x| in [0.3, 1.3]: kinks (relu, leaky_relu, abs) stay out of the difference step."""
    return cn.Tensor(rng.uniform(0.3, 1.3, shape) * rng.choice([-1.0, 1.0], shape), requires_grad=True)


# name -> (fn, input builder); broadcasting, axes, strides and paddings vary across cases
OPS = {
    "add_broadcast": (lambda a, b: (a + b) * (a + b), lambda r: [_t(r, 3, 4), _t(r, 4)]),
    "sub_broadcast": (lambda a, b: (a - b) * a, lambda r: [_t(r, 2, 3, 1), _t(r, 3, 4)]),
    "mul_broadcast": (lambda a, b: a * b * a, lambda r: [_t(r, 3, 4), _t(r, 3, 1)]),
    "div_broadcast": (lambda a, b: a / b, lambda r: [_t(r, 3, 4), _t(r, 4, low=0.5, high=2.0)]),
    "scalars": (lambda a: 2.0 / (3.0 - a * a * 0.5) + 1.0 - (a / 4.0), lambda r: [_t(r, 5, low=-1, high=1)]),
    "neg": (lambda a: -(a * a), lambda r: [_t(r, 3, 2)]),
    "pow_scalar": (lambda a: a ** 3.0 + a ** 2, lambda r: [_t(r, 3, 4)]),
    "pow_tensor": (lambda a, p: a ** p, lambda r: [_t(r, 3, 4, low=0.5, high=2.0), _t(r, 4, low=0.5, high=2.0)]),
    "rpow": (lambda a: 2.0 ** (a * a), lambda r: [_t(r, 4)]),
    "sqrt": (cn.sqrt, lambda r: [_t(r, 3, 4, low=0.5, high=2.0)]),
    "exp": (lambda a: cn.exp(a * a), lambda r: [_t(r, 3, 4)]),
    "log": (cn.log, lambda r: [_t(r, 3, 4, low=0.5, high=2.0)]),
    "abs": (lambda a: cn.abs(a) * a, lambda r: [_away_from_zero(r, 6)]),
    "maximum_where": (lambda a, b: cn.maximum(a * a, b) + cn.where(a.data > 0, a * b, b * b),
                      lambda r: [_t(r, 3, 4), _t(r, 4)]),
    "sum_axis": (lambda a: (a * a).sum(axis=1), lambda r: [_t(r, 3, 4, 2)]),
    "sum_keepdims": (lambda a: (a * a).sum(axis=(0, 2), keepdims=True), lambda r: [_t(r, 3, 4, 2)]),
    "sum_all": (lambda a: (a * a * a).sum(), lambda r: [_t(r, 3, 4)]),
    "mean_axis": (lambda a: (a * a).mean(axis=-1), lambda r: [_t(r, 3, 4)]),
    "mean_keepdims": (lambda a: (a * a).mean(axis=0, keepdims=True), lambda r: [_t(r, 3, 4)]),
    "max": (lambda a: (a * a).max(axis=1), lambda r: [_t(r, 3, 4)]),
    "var": (lambda a: a.var(axis=1), lambda r: [_t(r, 3, 4)]),
    "logsumexp": (lambda a: a.logsumexp(axis=1), lambda r: [_t(r, 3, 4)]),
    "softmax": (lambda a: a.softmax(axis=0), lambda r: [_t(r, 3, 4)]),
    "log_softmax": (lambda a: a.log_softmax(axis=-1), lambda r: [_t(r, 3, 4)]),
    "reshape_view_flatten": (lambda a: (a.reshape(4, 6).view(2, 12) * a.flatten().reshape(2, 12)).flatten(),
                             lambda r: [_t(r, 2, 3, 4)]),
    "squeeze_unsqueeze": (lambda a: (a.unsqueeze(0) * a.unsqueeze(0)).squeeze(0), lambda r: [_t(r, 3, 1)]),
    "transpose_permute": (lambda a: a.transpose(0, 2) * a.permute(2, 1, 0) + a.T, lambda r: [_t(r, 2, 3, 4)]),
    "expand": (lambda a: a.expand(3, 4) * a.expand(3, 4), lambda r: [_t(r, 1, 4)]),
    "getitem": (lambda a: a[1:, ::2] * a[[0, 0, 2]][:2, :2], lambda r: [_t(r, 3, 4)]),
    "concatenate": (lambda a, b: cn.cat([a * b, b, a], dim=1) ** 2, lambda r: [_t(r, 2, 3), _t(r, 2, 3)]),
    "stack": (lambda a, b: cn.stack([a * b, a], dim=-1) ** 2, lambda r: [_t(r, 2, 3), _t(r, 2, 3)]),
    "pad": (lambda a: cn.pad(a * a, ((1, 0), (0, 2))), lambda r: [_t(r, 2, 3)]),
    "matmul_batched": (lambda a, b: a @ b, lambda r: [_t(r, 2, 3, 4), _t(r, 4, 2)]),
    "matmul_vector": (lambda a, b: (a @ b) * (b @ a.transpose(0, 1)),
                      lambda r: [_t(r, 3, 3), _t(r, 3)]),
    "linear": (lambda x, w, b: F.linear(x, w, b) ** 2, lambda r: [_t(r, 2, 3, 4), _t(r, 5, 4), _t(r, 5)]),
    "linear_no_bias": (lambda x, w: F.linear(x, w) ** 2, lambda r: [_t(r, 3, 4), _t(r, 2, 4)]),
    "fused_linear_relu": (lambda x, w, b: F.fused_linear(x, w, b, "relu") ** 2,
                          lambda r: [_t(r, 3, 4), _t(r, 4, 2), _t(r, 2)]),
    "fused_linear_tanh_ensemble": (lambda x, w, b: F.fused_linear(x, w, b, "tanh"),
                                   lambda r: [_t(r, 3, 4), _t(r, 2, 4, 2), _t(r, 2, 1, 2)]),
    "relu": (lambda a: F.relu(a) * a, lambda r: [_away_from_zero(r, 3, 4)]),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.2) * a, lambda r: [_away_from_zero(r, 3, 4)]),
    "tanh": (cn.tanh, lambda r: [_t(r, 3, 4)]),
    "sigmoid": (cn.sigmoid, lambda r: [_t(r, 3, 4)]),
    "elu_silu_log_sigmoid": (lambda a: F.elu(a) + F.silu(a) + F.log_sigmoid(a), lambda r: [_away_from_zero(r, 6)]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, 4, w, b) ** 2, lambda r: [_t(r, 3, 4), _t(r, 4), _t(r, 4)]),
    "conv2d_stride2_pad1": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1) ** 2,
                            lambda r: [_t(r, 2, 2, 5, 5), _t(r, 3, 2, 3, 3), _t(r, 3)]),
    "conv2d_valid": (lambda x, w: F.conv2d(x, w) ** 2, lambda r: [_t(r, 1, 2, 4, 5), _t(r, 2, 2, 2, 3)]),
    "conv2d_same_dilation": (lambda x, w: F.conv2d(x, w, padding="same", dilation=2) ** 2,
                             lambda r: [_t(r, 1, 1, 5, 5), _t(r, 2, 1, 2, 2)]),
    "conv2d_groups_stride": (lambda x, w: F.conv2d(x, w, stride=(2, 1), padding=(0, 1), groups=2) ** 2,
                             lambda r: [_t(r, 1, 4, 5, 4), _t(r, 2, 2, 3, 2)]),
    "conv1d_unbatched": (lambda x, w: F.conv1d(x, w, stride=2, padding=1) ** 2,
                         lambda r: [_t(r, 2, 7), _t(r, 3, 2, 3)]),
    "conv_transpose2d": (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1) ** 2,
                         lambda r: [_t(r, 1, 2, 3, 3), _t(r, 2, 3, 3, 3), _t(r, 3)]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradgradcheck_per_op(name):
    fn, build = OPS[name]
    assert gradgradcheck(fn, build(np.random.default_rng(0)), atol=1e-5, rtol=1e-4)


def test_tensor_level_gradients_equal_first_order_gradients():
    rng = np.random.default_rng(1)
    for name, (fn, build) in OPS.items():
        inputs = build(rng)
        out = fn(*inputs)
        v = rng.standard_normal(out.shape)
        first = grad(out, inputs, grad_outputs=v, retain_graph=True)
        second = grad(out, inputs, grad_outputs=v, create_graph=True)
        for a, b in zip(first, second):
            np.testing.assert_allclose(b.data, a.data, rtol=1e-12, atol=1e-12, err_msg=name)


def test_gradgradcheck_detects_a_detached_second_derivative():
    def cube(x):
        return node(x.data ** 3, (x,), lambda g: (3.0 * g * x.data ** 2,))

    @register_tensor_backward(cube)
    def _cube_grad(node_, g, saved, needs):
        x = node_._parents[0]
        return (g * x * x * 3.0,)
    x = cn.Tensor(np.array([0.5, -1.2]), requires_grad=True)
    assert gradgradcheck(cube, [x])

    @register_tensor_backward(cube)
    def _detached(node_, g, saved, needs):  # the right value, but x is a constant in it
        return (g * (3.0 * node_._parents[0].data ** 2),)
    with pytest.raises(GradcheckError, match="gradcheck failed for input 0"):
        gradgradcheck(cube, [x])


def test_second_derivative_values():
    x = cn.Tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    (g,) = grad((x ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, 3 * x.data ** 2)
    (h,) = grad(g.sum(), x)
    np.testing.assert_allclose(h.data, 6 * x.data)
    assert x.grad is None  # returned, not accumulated


# ---- the WGAN-GP gradient penalty -----------------------------------------------------------------------
def _critic_params(rng):
    return {"conv_w": rng.standard_normal((4, 2, 3, 3)) * 0.5, "conv_b": rng.standard_normal(4) * 0.1,
            "lin_w": rng.standard_normal((1, 4 * 3 * 3)) * 0.3, "lin_b": rng.standard_normal(1) * 0.1}


def _critic(x, p):
    h = F.leaky_relu(F.conv2d(x, p["conv_w"], p["conv_b"], stride=2, padding=1), 0.2)
    return F.linear(h.flatten(1), p["lin_w"], p["lin_b"])


def _penalty(params, x_hat, lam=10.0):
    score = _critic(x_hat, params)
    (g,) = grad(outputs=score.sum(), inputs=x_hat, create_graph=True)
    norms = cn.sqrt((g ** 2).sum(axis=(1, 2, 3)))
    return lam * ((norms - 1.0) ** 2).mean()


def _wgan_gp_inputs():
    rng = np.random.default_rng(3)
    real, fake = rng.standard_normal((3, 2, 5, 5)), rng.standard_normal((3, 2, 5, 5))
    eps = rng.uniform(size=(3, 1, 1, 1))
    return _critic_params(rng), real, fake, eps * real + (1 - eps) * fake


def test_gradient_penalty_weight_gradients_match_central_differences():
    arrays, _, _, x_hat = _wgan_gp_inputs()
    params = {k: cn.Tensor(v, requires_grad=True) for k, v in arrays.items()}
    _penalty(params, cn.Tensor(x_hat, requires_grad=True)).backward()
    for name, p in params.items():
        numeric = np.zeros_like(p.data)
        for j in range(p.data.size):
            flat = p.data.reshape(-1)
            orig = flat[j]
            values = []
            for step in (1e-6, -1e-6):
                flat[j] = orig + step
                values.append(_penalty(params, cn.Tensor(x_hat, requires_grad=True)).item())
            flat[j] = orig
            numeric.reshape(-1)[j] = (values[0] - values[1]) / 2e-6
        # None: no path (lin_b; conv_b reaches the penalty only through leaky_relu's constant slopes)
        analytic = np.zeros_like(p.data) if p.grad is None else p.grad
        np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-6, err_msg=name)


def test_wgan_gp_critic_loss_matches_torch():
    torch = pytest.importorskip("torch")
    arrays, real, fake, x_hat = _wgan_gp_inputs()
    params = {k: cn.Tensor(v, requires_grad=True) for k, v in arrays.items()}
    x_hat_t = cn.Tensor(x_hat, requires_grad=True)
    loss = (_critic(cn.Tensor(fake), params).mean() - _critic(cn.Tensor(real), params).mean()
            + _penalty(params, x_hat_t))
    loss.backward()

    tp = {k: torch.tensor(v, requires_grad=True) for k, v in arrays.items()}

    def critic(x):
        h = torch.nn.functional.leaky_relu(torch.nn.functional.conv2d(x, tp["conv_w"], tp["conv_b"], stride=2,
                                                                      padding=1), 0.2)
        return torch.nn.functional.linear(h.flatten(1), tp["lin_w"], tp["lin_b"])
    xh = torch.tensor(x_hat, requires_grad=True)
    (g,) = torch.autograd.grad(outputs=critic(xh).sum(), inputs=xh, create_graph=True)
    penalty = 10.0 * ((g.pow(2).sum(dim=(1, 2, 3)).sqrt() - 1.0) ** 2).mean()
    loss_t = critic(torch.tensor(fake)).mean() - critic(torch.tensor(real)).mean() + penalty
    loss_t.backward()
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-10)
    for k in params:
        np.testing.assert_allclose(params[k].grad, tp[k].grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=k)
    # the penalty's gradient is piecewise constant in x_hat: torch returns zeros, corenn no gradient
    assert x_hat_t.grad is None and not xh.grad.numpy().any()


def test_gradient_penalty_float32_critic_module():
    cn.manual_seed(0)
    critic = cn.nn.Sequential(cn.nn.Conv2d(1, 4, 3, stride=2, padding=1), cn.nn.LeakyReLU(0.2),
                              cn.nn.Flatten(), cn.nn.Linear(4 * 4 * 4, 1))
    x_hat = cn.Tensor(np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32),
                      requires_grad=True)
    (g,) = grad(outputs=critic(x_hat).sum(), inputs=x_hat, create_graph=True)
    assert g.dtype == np.float32 and g.requires_grad
    penalty = ((cn.sqrt((g ** 2).sum(axis=(1, 2, 3))) - 1.0) ** 2).mean()
    penalty.backward()
    weights = [critic[0].weight, critic[3].weight]  # the biases do not reach the penalty
    assert all(p.grad is not None and p.grad.dtype == np.float32 and np.isfinite(p.grad).all() for p in weights)


# ---- grad() semantics ----------------------------------------------------------------------------------
def test_first_order_grad_matches_backward_and_leaves_grad_untouched():
    rng = np.random.default_rng(0)
    x, w = _t(rng, 4, 3), _t(rng, 2, 3)
    gx, gw = grad(F.linear(x, w).relu().sum(), [x, w])
    assert x.grad is None and w.grad is None and not gx.requires_grad
    F.linear(x, w).relu().sum().backward()
    np.testing.assert_array_equal(gx.data, x.grad)
    np.testing.assert_array_equal(gw.data, w.grad)


def test_grad_outputs_several_outputs_and_shared_gradients():
    a, b = cn.Tensor(np.ones(3), requires_grad=True), cn.Tensor(np.ones(3), requires_grad=True)
    ga, gb = grad([a + b, a * 2.0], [a, b], grad_outputs=[np.arange(3.0), np.ones(3)])
    np.testing.assert_allclose(ga.data, np.arange(3.0) + 2.0)
    np.testing.assert_allclose(gb.data, np.arange(3.0))
    ga2, gb2 = grad((a + b).sum(), [a, b])
    ga2.data[0] = 7.0  # each result owns its array
    assert gb2.data[0] == 1.0
    with pytest.raises(RuntimeError, match=r"output 0 has shape \(3,\); pass grad_outputs"):
        grad(a * 2.0, a)
    with pytest.raises(RuntimeError, match=r"grad_outputs\[0\] has shape \(2,\)"):
        grad(a * 2.0, a, grad_outputs=np.ones(2))


def test_allow_unused():
    x, y = cn.Tensor(np.ones(2), requires_grad=True), cn.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="input 1 of grad.*not used.*allow_unused=True"):
        grad((x * 3.0).sum(), [x, y])
    gx, gy = grad((x * 3.0).sum(), [x, y], allow_unused=True)
    assert gy is None
    np.testing.assert_allclose(gx.data, [3.0, 3.0])
    gx, gy = grad((x * 3.0).sum(), [x, y], allow_unused=True, create_graph=True)
    assert gy is None


def test_inputs_and_outputs_must_require_grad():
    x = cn.Tensor(np.ones(2))
    with pytest.raises(RuntimeError, match="input 0 of grad.*does not require grad"):
        grad((x * 2.0).sum(), x)
    y = cn.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="output 0 of grad.*does not require grad"):
        grad(x.sum(), y)


def test_retain_graph():
    x = cn.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    grad(y, x, retain_graph=True)
    (g,) = grad(y, x)  # retain_graph defaults to create_graph (False): this call frees the graph
    np.testing.assert_allclose(g.data, [2.0, 4.0])
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        grad(y, x)
    z = (x * x * x).sum()
    (g,) = grad(z, x, create_graph=True)  # retains: both g and z backpropagate afterwards
    (h,) = grad(g.sum(), x, retain_graph=True)  # g's graph runs through z's: keep it for z.backward()
    np.testing.assert_allclose(h.data, 6 * x.data)
    z.backward()
    np.testing.assert_allclose(x.grad, 3 * x.data ** 2)


def test_gradient_wrt_an_interior_tensor():
    x = cn.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    h = x * 3.0
    (gh,) = grad((h * h).sum(), h, create_graph=True)
    np.testing.assert_allclose(gh.data, 2 * h.data)
    (gx,) = grad(gh.sum(), x)
    np.testing.assert_allclose(gx.data, [6.0, 6.0])


def test_op_without_second_order_raises_named_error():
    x = cn.Tensor(np.random.default_rng(0).standard_normal((2, 1, 4, 4)), requires_grad=True)
    with pytest.raises(NotImplementedError, match="create_graph=True.*softplus"):
        grad(F.softplus(x).sum(), x, create_graph=True)
    with pytest.raises(NotImplementedError, match="create_graph=True.*cross_entropy"):
        grad(F.cross_entropy(x.flatten(1), np.array([0, 3])), x, create_graph=True)
    with pytest.raises(NotImplementedError, match="gelu"):
        grad(F.gelu(x).sum(), x, create_graph=True)
    (g,) = grad(F.gelu(x).sum(), x)  # first order is unaffected
    assert g.shape == x.shape


def test_tensor_backward_keywords():
    x = cn.Tensor(np.ones(2), requires_grad=True)
    (x * 2.0).backward(gradient=np.array([1.0, 3.0]))
    np.testing.assert_allclose(x.grad, [2.0, 6.0])
    with pytest.raises(NotImplementedError, match="corenn.autograd.grad"):
        (x * 2.0).sum().backward(create_graph=True)
