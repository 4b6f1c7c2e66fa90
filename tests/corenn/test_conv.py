"""Convolutions: float64 gradchecks, PyTorch parity (float32) and the modules' init, shapes, errors."""
import math

import numpy as np
import pytest

import corenn as cn
from corenn.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from corenn.ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d


def arr(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape)


def leaf(shape, seed=0, requires_grad=True):
    return cn.Tensor(arr(shape, seed), requires_grad=requires_grad)


# --------------------------------------------------------------------------- gradchecks (float64)
# (C_in, C_out, kernel, stride, padding, dilation, groups, bias, H, W)
CONV2D_CASES = [
    (2, 3, (3, 3), 1, 0, 1, 1, True, 5, 5),
    (2, 3, (3, 3), 2, 1, 1, 1, True, 6, 7),
    (2, 2, (3, 3), 1, "same", 1, 1, False, 5, 6),
    (4, 4, (3, 3), 1, "same", 2, 2, True, 6, 6),
    (4, 2, (3, 3), 2, 1, 2, 2, False, 7, 7),
    (2, 3, (1, 3), 1, 1, 1, 1, True, 5, 5),
    (2, 4, (1, 3), 2, (0, 1), (1, 2), 2, True, 5, 7),
    (2, 2, (1, 3), 1, "same", 2, 1, False, 5, 6),
    (2, 2, (5, 5), 1, 0, 1, 1, True, 6, 6),
    (2, 2, (5, 5), 1, "same", 1, 2, True, 5, 5),
    (4, 2, (5, 5), 2, 2, 1, 2, False, 7, 6),
    (2, 3, (2, 3), (2, 1), (1, 0), (2, 1), 1, True, 6, 5),
    (3, 2, (2, 2), 1, "same", (1, 2), 1, True, 5, 5),  # even kernel: 'same' pads the odd pixel at the end
    (2, 2, (3, 3), 1, "valid", 1, 1, True, 5, 5),
    (2, 3, (3, 3), 1, 3, 1, 1, True, 4, 5),  # padding > dilation*(k-1): stride 1 through col2im
    (4, 4, (3, 2), 1, (2, 1), (1, 2), 2, False, 6, 6),  # stride 1 as a flipped-kernel conv, grouped
]


@pytest.mark.parametrize("cin,cout,k,stride,padding,dilation,groups,bias,h,w", CONV2D_CASES)
def test_conv2d_gradcheck(cin, cout, k, stride, padding, dilation, groups, bias, h, w):
    x = leaf((2, cin, h, w), 1)
    wt = leaf((cout, cin // groups) + k, 2)
    inputs = [x, wt] + ([leaf((cout,), 3)] if bias else [])

    def fn(x, w, b=None):
        return conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    cn.gradcheck(fn, inputs)


@pytest.mark.parametrize("stride,padding,dilation,groups,bias", [
    (1, 0, 1, 1, True), (2, 1, 1, 2, False), (1, "same", 2, 1, True), (3, 2, 2, 2, True), (1, "valid", 1, 1, False)])
def test_conv1d_gradcheck(stride, padding, dilation, groups, bias):
    x, w = leaf((2, 4, 9), 1), leaf((4, 4 // groups, 3), 2)
    inputs = [x, w] + ([leaf((4,), 3)] if bias else [])
    cn.gradcheck(lambda x, w, b=None: conv1d(x, w, b, stride, padding, dilation, groups), inputs)


# (C_in, C_out, kernel, stride, padding, output_padding, groups, dilation, bias, H, W)
CONVT_CASES = [
    (2, 3, (3, 3), 1, 0, 0, 1, 1, True, 4, 4),
    (2, 3, (3, 3), 2, 1, 1, 1, 1, True, 4, 5),
    (4, 2, (3, 3), 2, 0, 0, 2, 1, False, 3, 4),
    (4, 4, (3, 2), (2, 3), (1, 0), (1, 2), 2, 1, True, 3, 3),
    (2, 2, (3, 3), 1, 1, 1, 1, 2, True, 4, 4),  # output_padding < dilation
    (2, 3, (3, 3), 2, 2, 1, 1, 2, False, 4, 4),
    (2, 2, (1, 3), 1, 0, 0, 1, 1, True, 4, 4),
    (2, 2, (5, 5), 3, 2, 2, 1, 1, True, 3, 3),
]


@pytest.mark.parametrize("cin,cout,k,stride,padding,opad,groups,dilation,bias,h,w", CONVT_CASES)
def test_conv_transpose2d_gradcheck(cin, cout, k, stride, padding, opad, groups, dilation, bias, h, w):
    x = leaf((2, cin, h, w), 1)
    wt = leaf((cin, cout // groups) + k, 2)
    inputs = [x, wt] + ([leaf((cout,), 3)] if bias else [])

    def fn(x, w, b=None):
        return conv_transpose2d(x, w, b, stride, padding, opad, groups, dilation)
    cn.gradcheck(fn, inputs)


def test_conv_transpose1d_gradcheck():
    inputs = [leaf((2, 4, 5), 1), leaf((4, 3, 3), 2), leaf((6,), 3)]
    cn.gradcheck(lambda x, w, b: conv_transpose1d(x, w, b, 2, 1, 1, 2), inputs)


def test_partial_grads_and_unbatched():
    x, w = leaf((3, 5, 5), 1), leaf((2, 3, 3, 3), 2, requires_grad=False)
    cn.gradcheck(lambda x, w: conv2d(x, w, padding=1), [x, w])  # unbatched (C, H, W), frozen weight
    cn.gradcheck(lambda x, w: conv2d(x, w, stride=2), [cn.Tensor(arr((2, 3, 5, 5))), leaf((2, 3, 3, 3))])
    cn.gradcheck(lambda x, w: conv_transpose2d(x, w, stride=2), [leaf((2, 4, 4), 1), leaf((2, 3, 2, 2), 2)])
    cn.gradcheck(lambda x, w: conv1d(x, w, padding="same"), [leaf((3, 6), 1), leaf((2, 3, 4), 2)])


def test_no_grad_builds_no_node_and_float32_stays_float32():
    x = cn.Tensor(arr((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    w = cn.Tensor(arr((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    b = cn.Tensor(arr((4,)).astype(np.float32), requires_grad=True)
    with cn.no_grad():
        y = conv2d(x, w, b)
    assert not y.requires_grad and y.shape == (2, 4, 4, 4)
    y = conv2d(x, w, b, padding=1)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32
    assert x.grad.shape == x.shape and w.grad.shape == w.shape


def test_functional_errors():
    x, w = leaf((2, 4, 5, 5)), leaf((3, 2, 3, 3))
    with pytest.raises(ValueError, match="input has 4 channels"):
        conv2d(x, w)
    with pytest.raises(ValueError, match="divisible by groups"):
        conv2d(x, w, groups=2)
    with pytest.raises(ValueError, match="stride"):
        conv2d(x, leaf((2, 4, 3, 3)), stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be"):
        conv2d(x, leaf((2, 4, 3, 3)), padding="full")
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv2d(x, leaf((2, 4, 6, 6)))
    with pytest.raises(ValueError, match="input must be 4-D"):
        conv2d(leaf((4, 5)), leaf((2, 4, 3, 3)))
    with pytest.raises(ValueError, match="weight must be 4-D"):
        conv2d(x, leaf((2, 4, 3)))
    with pytest.raises(ValueError, match="bias must have shape"):
        conv2d(x, leaf((2, 4, 3, 3)), leaf((3,)))
    with pytest.raises(ValueError, match="stride must be >= 1"):
        conv2d(x, leaf((2, 4, 3, 3)), stride=0)
    with pytest.raises(ValueError, match="output_padding"):
        conv_transpose2d(x, leaf((4, 2, 3, 3)), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="input has 4 channels"):
        conv_transpose2d(x, leaf((3, 2, 3, 3)))


# --------------------------------------------------------------------------- modules (no torch)
def test_module_init_bounds_and_errors():
    cn.manual_seed(0)
    m = Conv2d(4, 64, (3, 5), groups=2)
    bound = 1 / math.sqrt(2 * 3 * 5)
    assert m.weight.shape == (64, 2, 3, 5) and m.bias.shape == (64,) and m.weight.dtype == np.float32
    assert np.abs(m.weight.data).max() <= bound and np.abs(m.weight.data).max() > 0.9 * bound
    assert np.abs(m.bias.data).max() <= bound
    t = ConvTranspose2d(4, 6, 3, groups=2, bias=False)
    assert t.weight.shape == (4, 3, 3, 3) and t.bias is None
    assert np.abs(t.weight.data).max() <= 1 / math.sqrt(3 * 9)
    assert list(dict(m.named_parameters())) == ["weight", "bias"]
    with pytest.raises(ValueError, match=r"Conv2d expected 3 input channels, got 4 \(input shape \(2, 4, 5, 5\)\)"):
        Conv2d(3, 2, 3)(leaf((2, 4, 5, 5)))
    with pytest.raises(ValueError, match="Conv1d expected a 3-D"):
        Conv1d(3, 2, 3)(leaf((2, 3, 5, 5)))
    with pytest.raises(ValueError, match=r"in_channels \(3\) must be divisible by groups \(2\)"):
        Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels"):
        Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        Conv2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="strided"):
        Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be"):
        ConvTranspose2d(3, 4, 3, padding="same")
    with pytest.raises(ValueError, match="output_padding"):
        ConvTranspose2d(3, 4, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2d(3, 4, (3, 3, 3))


# --------------------------------------------------------------------------- PyTorch parity (float32)
def _torch():
    return pytest.importorskip("torch")


def _parity(ours_fn, torch_fn, x, w, b, rtol=1e-4, atol=1e-5):
    torch = _torch()
    x, w = x.astype(np.float32), w.astype(np.float32)
    b = None if b is None else b.astype(np.float32)
    cx, cw = cn.Tensor(x, requires_grad=True), cn.Tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    cb = None if b is None else cn.Tensor(b, requires_grad=True)
    tb = None if b is None else torch.tensor(b, requires_grad=True)
    ours, theirs = ours_fn(cx, cw, cb), torch_fn(tx, tw, tb)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == np.float32
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(7).standard_normal(ours.shape).astype(np.float32)
    (ours * cn.Tensor(g)).sum().backward()
    theirs.backward(torch.tensor(g))
    pairs = [(cx, tx), (cw, tw)] + ([] if b is None else [(cb, tb)])
    for a, t in pairs:
        np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=rtol, atol=atol * 10)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("cin,cout,k,stride,padding,dilation,groups,bias,h,w", CONV2D_CASES + [
    (8, 16, (3, 3), 1, 1, 1, 1, True, 12, 12), (8, 8, (3, 3), 2, 1, 1, 8, True, 9, 9),  # depthwise
    (6, 12, (1, 1), 1, 0, 1, 3, False, 7, 5), (3, 4, (7, 7), 3, 3, 1, 1, True, 16, 15)])
def test_conv2d_matches_torch(cin, cout, k, stride, padding, dilation, groups, bias, h, w):
    F = _torch().nn.functional
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    _parity(lambda x, w, b: conv2d(x, w, b, **kw), lambda x, w, b: F.conv2d(x, w, b, **kw),
            arr((3, cin, h, w), 1), arr((cout, cin // groups) + k, 2), arr((cout,), 3) if bias else None)


@pytest.mark.parametrize("stride,padding,dilation,groups,bias,length", [
    (1, 0, 1, 1, True, 9), (2, 1, 1, 2, False, 10), (1, "same", 2, 1, True, 8), (3, 2, 2, 4, True, 17)])
def test_conv1d_matches_torch(stride, padding, dilation, groups, bias, length):
    F = _torch().nn.functional
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    _parity(lambda x, w, b: conv1d(x, w, b, **kw), lambda x, w, b: F.conv1d(x, w, b, **kw),
            arr((2, 4, length), 1), arr((8, 4 // groups, 3), 2), arr((8,), 3) if bias else None)


@pytest.mark.parametrize("cin,cout,k,stride,padding,opad,groups,dilation,bias,h,w", CONVT_CASES + [
    (8, 4, (4, 4), 2, 1, 0, 1, 1, True, 7, 7), (6, 6, (3, 3), 2, 1, 1, 3, 1, True, 5, 6)])
def test_conv_transpose2d_matches_torch(cin, cout, k, stride, padding, opad, groups, dilation, bias, h, w):
    F = _torch().nn.functional
    args = (stride, padding, opad, groups, dilation)
    _parity(lambda x, w, b: conv_transpose2d(x, w, b, *args), lambda x, w, b: F.conv_transpose2d(x, w, b, *args),
            arr((2, cin, h, w), 1), arr((cin, cout // groups) + k, 2), arr((cout,), 3) if bias else None)


def test_conv_transpose1d_matches_torch():
    F = _torch().nn.functional
    args = (2, 1, 1, 2, 2)
    _parity(lambda x, w, b: conv_transpose1d(x, w, b, *args), lambda x, w, b: F.conv_transpose1d(x, w, b, *args),
            arr((2, 4, 7), 1), arr((4, 3, 3), 2), arr((6,), 3))


def test_unbatched_matches_torch():
    F = _torch().nn.functional
    _parity(lambda x, w, b: conv2d(x, w, b, padding="same"), lambda x, w, b: F.conv2d(x, w, b, padding="same"),
            arr((3, 6, 5), 1), arr((4, 3, 3, 3), 2), arr((4,), 3))


@pytest.mark.parametrize("cls,args,kwargs,x_shape", [
    ("Conv2d", (3, 8, 3), {}, (2, 3, 9, 9)),
    ("Conv2d", (4, 8, (3, 5)), {"stride": 2, "padding": 1, "dilation": (1, 2), "groups": 2, "bias": False},
     (2, 4, 9, 11)),
    ("Conv2d", (4, 6, 4), {"padding": "same"}, (2, 4, 7, 7)),
    ("Conv1d", (4, 6, 5), {"stride": 2, "padding": 2, "groups": 2}, (3, 4, 12)),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}, (2, 4, 5, 5)),
    ("ConvTranspose1d", (4, 2, 3), {"stride": 3, "dilation": 2}, (2, 4, 6)),
])
def test_modules_match_torch(cls, args, kwargs, x_shape):
    torch = _torch()
    cn.manual_seed(0)
    ours, theirs = {"Conv1d": Conv1d, "Conv2d": Conv2d, "ConvTranspose1d": ConvTranspose1d,
                    "ConvTranspose2d": ConvTranspose2d}[cls](*args, **kwargs), getattr(torch.nn, cls)(*args, **kwargs)
    assert ours.weight.shape == tuple(theirs.weight.shape)
    assert (ours.bias is None) == (theirs.bias is None)
    assert repr(ours) == repr(theirs)
    fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(theirs.weight)
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(ours.weight.data).max() <= bound
    assert np.abs(theirs.weight.detach().numpy()).max() <= bound  # the same bound as torch's init
    assert ours.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.35)
    if ours.bias is not None:
        assert np.abs(ours.bias.data).max() <= bound
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.data))
        if theirs.bias is not None:
            theirs.bias.copy_(torch.tensor(ours.bias.data))
    x = arr(x_shape, 4).astype(np.float32)
    cx, tx = cn.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(cx), theirs(tx)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(cx.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    if ours.bias is not None:
        np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
