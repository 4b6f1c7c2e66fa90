"""Convolutions (PyTorch's names, arguments and NCHW layout), each one graph node.

conv2d goes through im2col: the zero-padded input, laid out (C, N, Hp, Wp), is read through one
``as_strided`` window view (C, kH, kW, N, Ho, Wo) and copied once into columns
(groups, C/groups*kH*kW, N*Ho*Wo); the output is then ONE batched ``np.matmul`` over the groups:
    out[g] = W[g] (C_out/groups, K) @ cols[g] (K, N*Ho*Wo)
Backward: grad_weight = g[g] @ cols[g].T (one batched matmul). The input gradient of a stride-1
conv is itself a conv (of the output gradient with the flipped kernel: one im2col and one
matmul); for larger strides grad_cols = W[g].T @ g[g] and the columns are scattered back
(col2im) by a loop over the kH*kW kernel offsets, each adding one strided slice of the padded
input gradient (no np.add.at, no per-pixel loops).

conv_transpose2d is the adjoint: its forward is conv2d's col2im path (W.T @ x, then scatter) and
its input gradient is conv2d's forward (im2col of the gradient, then W @ cols).

conv1d and conv_transpose1d run the same code with H = 1.
"""
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import movement as mv
from . import reduce as rd
from .common import as_tensor, node, register_tensor_backward


# --------------------------------------------------------------------------- argument checks
def _tuple(v, n, name, fn, minimum):
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        v = (int(v),) * n
    elif isinstance(v, (tuple, list)) and len(v) == n and all(
            isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in v):
        v = tuple(int(e) for e in v)
    else:
        raise ValueError(f"{fn}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    if any(e < minimum for e in v):
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {v}")
    return v


def _padding(padding, n, kernel, stride, dilation, fn):
    """(top, bottom, left, right) zero padding; n == 1 pads only the last axis."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(f"{fn}: padding must be 'valid', 'same', an int or a tuple, got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{fn}: padding='same' is not supported for strided convolutions "
                             f"(stride {stride[-n:] if n == 1 else stride})")
        pads = []
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)
            pads += [total // 2, total - total // 2]  # the odd pixel goes to the end, as torch
        return tuple(pads)
    p = _tuple(padding, n, "padding", fn, 0)
    if n == 1:
        p = (0,) + p
    return (p[0], p[0], p[1], p[1])


def _check_groups(groups, fn):
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    return int(groups)


def _out_size(size, pad, k, s, d, fn, axis):
    eff = d * (k - 1) + 1
    if size + pad < eff:
        raise ValueError(f"{fn}: the (dilated) kernel size {eff} along {axis} is larger than the padded "
                         f"input size {size + pad}")
    return (size + pad - eff) // s + 1


# --------------------------------------------------------------------------- im2col / col2im
def _im2col(x, pads, kernel, stride, dilation, out_hw):
    """x (N, C, H, W) -> columns (C*kH*kW, N*Ho*Wo), rows ordered (c, i, j)."""
    n, c, h, w = x.shape
    pt, pb, pl, pr = pads
    if any(pads):
        xp = np.zeros((c, n, h + pt + pb, w + pl + pr), dtype=x.dtype)
        xp[:, :, pt:pt + h, pl:pl + w] = x.transpose(1, 0, 2, 3)
    else:
        xp = x.transpose(1, 0, 2, 3)  # a view: the window copy below does the transpose
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    s_c, s_n, s_h, s_w = xp.strides
    view = as_strided(xp, (c, kh, kw, n, ho, wo),
                      (s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw), writeable=False)
    return view.reshape(c * kh * kw, n * ho * wo)


def _col2im(cols, buf_shape, crop, kernel, stride, dilation, out_hw):
    """Adjoint of _im2col: columns (C*kH*kW, N*Ho*Wo) -> (N, C, H, W), summing overlaps.

    buf_shape (N, C, Hp, Wp) is the padded extent; crop (top, H, left, W) the part returned."""
    n, c, hp, wp = buf_shape
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    v = cols.reshape(c, kh, kw, n, ho, wo)
    buf = np.zeros((c, n, hp, wp), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            h0, w0 = i * dh, j * dw
            buf[:, :, h0:h0 + sh * (ho - 1) + 1:sh, w0:w0 + sw * (wo - 1) + 1:sw] += v[:, i, j]
    top, h, left, w = crop
    return np.ascontiguousarray(buf[:, :, top:top + h, left:left + w].transpose(1, 0, 2, 3))


def _to_nchw(y, n, c, ho, wo, bias=None):
    """(G, C_g, N*Ho*Wo) matmul result -> contiguous (N, C, Ho, Wo), bias added in the same pass."""
    src = y.reshape(c, n, ho, wo).transpose(1, 0, 2, 3)
    if bias is None:
        return np.ascontiguousarray(src)
    out = np.empty((n, c, ho, wo), dtype=np.result_type(y, bias))
    np.add(src, bias[:, None, None], out=out)
    return out


def _from_nchw(g, groups):
    """(N, C, Ho, Wo) -> contiguous (G, C/G, N*Ho*Wo)."""
    n, c, ho, wo = g.shape
    return np.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(groups, c // groups, n * ho * wo)


def _cast(a, like):
    return None if a is None else a.astype(like.dtype, copy=False)


def _input_grad_stride1(g4, wd, groups, pads, dilation, in_hw):
    """Input gradient of a stride-1 conv as a conv of the output gradient with the flipped kernel.

    g4 (N, C_out, Ho, Wo), wd (C_out, C/groups, kH, kW) -> (N, C, H, W). One im2col copy and one
    matmul, instead of the col2im path's kH*kW read-modify-write passes over the input gradient."""
    n, cout = g4.shape[:2]
    _, cg, kh, kw = wd.shape
    (pt, pb, pl, pr), (dh, dw), (h, w) = pads, dilation, in_hw
    full_h, full_w = dh * (kh - 1), dw * (kw - 1)
    flipped = wd[:, :, ::-1, ::-1].reshape(groups, cout // groups, cg, kh, kw).transpose(0, 2, 1, 3, 4)
    cols = _im2col(g4, (full_h - pt, full_h - pb, full_w - pl, full_w - pr), (kh, kw), (1, 1), dilation, (h, w))
    k = cout // groups * kh * kw
    y = np.matmul(flipped.reshape(groups, cg, k), cols.reshape(groups, k, n * h * w))
    return _to_nchw(y, n, cg * groups, h, w)


# --------------------------------------------------------------------------- conv (4-D arrays)
def _conv_nd(x, weight, bias, stride, pads, dilation, groups, fn):
    """Shared node builder for conv1d/conv2d on 4-D data (conv1d passes H = 1 views)."""
    xd, wd = x.data4, weight.data4
    bd = None if bias is None else bias.data
    n, c, h, w = xd.shape
    cout, cg, kh, kw = wd.shape
    if cout % groups:
        raise ValueError(f"{fn}: out_channels ({cout}, weight shape {weight.data.shape}) must be "
                         f"divisible by groups ({groups})")
    if c != cg * groups:
        raise ValueError(f"{fn}: input has {c} channels (input shape {x.data.shape}) but the weight "
                         f"expects {cg * groups} = {cg} per group x {groups} groups "
                         f"(weight shape {weight.data.shape})")
    if bd is not None and bd.shape != (cout,):
        raise ValueError(f"{fn}: bias must have shape ({cout},), got {bd.shape}")
    pt, pb, pl, pr = pads
    ho = _out_size(h, pt + pb, kh, stride[0], dilation[0], fn, "height")
    wo = _out_size(w, pl + pr, kw, stride[1], dilation[1], fn, "width")
    kernel, out_hw, k = (kh, kw), (ho, wo), cg * kh * kw
    cols = _im2col(xd, pads, kernel, stride, dilation, out_hw).reshape(groups, k, n * ho * wo)
    w3 = wd.reshape(groups, cout // groups, k)
    out = _to_nchw(np.matmul(w3, cols), n, cout, ho, wo, bd)

    def backward(g4):
        gt = _from_nchw(g4, groups)
        gx = gw = gb = None
        if x.tensor.requires_grad and stride == (1, 1) and max(pt, pb) <= dilation[0] * (kh - 1) \
                and max(pl, pr) <= dilation[1] * (kw - 1):
            gx = _input_grad_stride1(g4, wd, groups, pads, dilation, (h, w))
        elif x.tensor.requires_grad:
            dcols = np.matmul(w3.transpose(0, 2, 1), gt).reshape(c * kh * kw, n * ho * wo)
            gx = _col2im(dcols, (n, c, h + pt + pb, w + pl + pr), (pt, h, pl, w), kernel, stride,
                         dilation, out_hw)
        if weight.tensor.requires_grad:
            gw = np.matmul(gt, cols.transpose(0, 2, 1))
        if bias is not None and bias.requires_grad:
            gb = g4.sum(axis=(0, 2, 3))
        return gx, gw, gb
    return out, backward


def _conv_transpose_nd(x, weight, bias, stride, padding, output_padding, dilation, groups, fn):
    xd, wd = x.data4, weight.data4
    bd = None if bias is None else bias.data
    n, cin, h, w = xd.shape
    wcin, cog, kh, kw = wd.shape
    if cin != wcin:
        raise ValueError(f"{fn}: input has {cin} channels (input shape {x.data.shape}) but the weight "
                         f"expects {wcin} (weight shape {weight.data.shape}, laid out "
                         f"(in_channels, out_channels/groups, kH, kW))")
    if cin % groups:
        raise ValueError(f"{fn}: in_channels ({cin}) must be divisible by groups ({groups})")
    cout = cog * groups
    if bd is not None and bd.shape != (cout,):
        raise ValueError(f"{fn}: bias must have shape ({cout},), got {bd.shape}")
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise ValueError(f"{fn}: output_padding ({output_padding}) must be smaller than either "
                             f"stride ({stride}) or dilation ({dilation})")
    (ph, pw), (sh, sw), (dh, dw) = padding, stride, dilation
    hp = (h - 1) * sh + dh * (kh - 1) + 1 + output_padding[0]
    wp = (w - 1) * sw + dw * (kw - 1) + 1 + output_padding[1]
    ho, wo = hp - 2 * ph, wp - 2 * pw
    if ho < 1 or wo < 1:
        raise ValueError(f"{fn}: the output size ({ho}, {wo}) is too small (input shape "
                         f"{x.data.shape}, padding {padding})")
    kernel, in_hw, k = (kh, kw), (h, w), cog * kh * kw
    w3 = wd.reshape(groups, cin // groups, k)
    xt = _from_nchw(xd, groups)  # (G, Cin_g, N*H*W)
    dcols = np.matmul(w3.transpose(0, 2, 1), xt).reshape(cout * kh * kw, n * h * w)
    out = _col2im(dcols, (n, cout, hp, wp), (ph, ho, pw, wo), kernel, stride, dilation, in_hw)
    if bd is not None:
        out += bd[:, None, None]
    pads = (ph, hp - ph - ho, pw, wp - pw - wo)

    def backward(g4):
        need_w = weight.tensor.requires_grad
        gx = gw = gb = None
        if x.tensor.requires_grad or need_w:
            cols = _im2col(g4, pads, kernel, stride, dilation, in_hw).reshape(groups, k, n * h * w)
            if x.tensor.requires_grad:
                gx = _to_nchw(np.matmul(w3, cols), n, cin, h, w)
            if need_w:
                gw = np.matmul(xt, cols.transpose(0, 2, 1))
        if bias is not None and bias.requires_grad:
            gb = g4.sum(axis=(0, 2, 3))
        return gx, gw, gb
    return out, backward


class _ConvSpec(NamedTuple):
    """A conv node's arguments in its 4-D (N, C, H, W) form (conv1d: H = 1), for the Tensor-level
    backward. pads: (top, bottom, left, right) of the input (conv) or cropped off the output
    (conv_transpose)."""
    kind: str
    x4_shape: tuple
    w4_shape: tuple
    out4_shape: tuple
    stride: tuple
    pads: tuple
    dilation: tuple
    groups: int


class _Arg:
    """A Tensor argument with its data seen as 4-D (N, C, H, W) (or a weight's 4-D view)."""
    __slots__ = ("tensor", "data", "data4")

    def __init__(self, tensor, data4):
        self.tensor, self.data, self.data4 = tensor, tensor.data, data4


def _run(kind, dims, x, weight, bias, stride, padding, dilation, groups, output_padding=0):
    fn = f"{kind}{dims}d"
    x = as_tensor(x)
    weight = as_tensor(weight)
    bias = None if bias is None else as_tensor(bias)
    groups = _check_groups(groups, fn)
    xd, wd = x.data, weight.data
    if wd.ndim != dims + 2:
        raise ValueError(f"{fn}: weight must be {dims + 2}-D, got shape {wd.shape}")
    if xd.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{fn}: input must be {dims + 2}-D (batched) or {dims + 1}-D (unbatched), "
                         f"got shape {xd.shape}")
    unbatched = xd.ndim == dims + 1
    x4 = xd[None] if unbatched else xd
    w4 = wd
    if dims == 1:
        x4, w4 = x4[:, :, None, :], wd[:, :, None, :]
    kernel = w4.shape[2:]
    stride = _tuple(stride, dims, "stride", fn, 1)
    dilation = _tuple(dilation, dims, "dilation", fn, 1)
    if dims == 1:
        stride, dilation = (1,) + stride, (1,) + dilation
    xa, wa = _Arg(x, x4), _Arg(weight, w4)
    if kind == "conv":
        pads = _padding(padding, dims, kernel, stride, dilation, fn)
        out, back = _conv_nd(xa, wa, bias, stride, pads, dilation, groups, fn)
    else:
        if isinstance(padding, str):
            raise ValueError(f"{fn}: padding must be an int or a tuple, got {padding!r}")
        pad = _tuple(padding, dims, "padding", fn, 0)
        opad = _tuple(output_padding, dims, "output_padding", fn, 0)
        if dims == 1:
            pad, opad = (0,) + pad, (0,) + opad
        out, back = _conv_transpose_nd(xa, wa, bias, stride, pad, opad, dilation, groups, fn)
        pads = (pad[0], pad[0], pad[1], pad[1])
    spec = _ConvSpec(kind, x4.shape, w4.shape, out.shape, stride, pads, dilation, groups)
    if dims == 1:
        out = out[:, :, 0, :]
    if unbatched:
        out = out[0]

    def backward(g):
        gx, gw, gb = back(g.reshape(spec.out4_shape))
        grads = (None if gx is None else _cast(gx.reshape(xd.shape), xd),
                 None if gw is None else _cast(gw.reshape(wd.shape), wd))
        if bias is None:
            return grads
        return grads + (_cast(gb, bias.data),)
    parents = (x, weight) if bias is None else (x, weight, bias)
    return node(out, parents, backward)


# --------------------------------------------------------------------------- public ops
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) as torch.nn.functional.conv2d.

    x (N, C_in, H, W) or unbatched (C_in, H, W); weight (C_out, C_in/groups, kH, kW); bias (C_out,);
    padding: an int, a pair, 'valid' or 'same' (stride 1 only; the odd pixel is padded at the end)."""
    return _run("conv", 2, x, weight, bias, stride, padding, dilation, groups)


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution as torch.nn.functional.conv1d: x (N, C_in, L) or (C_in, L),
    weight (C_out, C_in/groups, k)."""
    return _run("conv", 1, x, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution as torch.nn.functional.conv_transpose2d: x (N, C_in, H, W) or
    (C_in, H, W), weight (C_in, C_out/groups, kH, kW); output size
    (H - 1)*stride - 2*padding + dilation*(kH - 1) + output_padding + 1."""
    return _run("conv_transpose", 2, x, weight, bias, stride, padding, dilation, groups, output_padding)


def conv_transpose1d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution as torch.nn.functional.conv_transpose1d: x (N, C_in, L) or
    (C_in, L), weight (C_in, C_out/groups, k)."""
    return _run("conv_transpose", 1, x, weight, bias, stride, padding, dilation, groups, output_padding)


# --------------------------------------------------------------------------- Tensor-level backward
# create_graph=True (see corenn.autograd): the gradients written with conv ops, so they differentiate
# again. A conv's input gradient is a transposed conv of g, its weight gradient the correlation of
# the padded input with g: a conv with batch and channels swapped, stride and dilation exchanged.
def _conv_weight_grad(inp, gout, kernel, stride, pads, dilation, groups):
    """d/dW of conv(inp, W) for the output gradient ``gout`` (N, C_out, Ho, Wo); inp (N, C, H, W)
    -> (C_out, C/groups, kH, kW)."""
    if any(pads):
        inp = mv.pad(inp, ((0, 0), (0, 0), pads[:2], pads[2:]))
    cg, cog = inp.shape[1] // groups, gout.shape[1] // groups
    parts = []
    for k in range(groups):
        xi = inp if groups == 1 else mv.getitem(inp, (slice(None), slice(k * cg, (k + 1) * cg)))
        gi = gout if groups == 1 else mv.getitem(gout, (slice(None), slice(k * cog, (k + 1) * cog)))
        corr = conv2d(mv.permute(xi, (1, 0, 2, 3)), mv.permute(gi, (1, 0, 2, 3)), stride=dilation,
                      dilation=stride)  # (C/groups, C_out/groups, >= kH, >= kW)
        corr = mv.getitem(corr, (slice(None), slice(None), slice(0, kernel[0]), slice(0, kernel[1])))
        parts.append(mv.permute(corr, (1, 0, 2, 3)))
    return parts[0] if groups == 1 else mv.concatenate(parts, axis=0)


def _crop_or_pad(t, top, h, left, w):
    """t[:, :, top:top + h, left:left + w], zero-extended at the bottom/right where t is too small."""
    extra_h, extra_w = max(top + h - t.shape[2], 0), max(left + w - t.shape[3], 0)
    if extra_h or extra_w:
        t = mv.pad(t, ((0, 0), (0, 0), (0, extra_h), (0, extra_w)))
    if t.shape[2:] == (h, w) and top == left == 0:
        return t
    return mv.getitem(t, (slice(None), slice(None), slice(top, top + h), slice(left, left + w)))


@register_tensor_backward(_run)  # conv1d, conv2d, conv_transpose1d, conv_transpose2d
def _conv_grad(node, g, saved, needs):
    spec = saved.spec
    x, weight = node._parents[:2]
    x4, w4, g4 = (mv.reshape(x, spec.x4_shape), mv.reshape(weight, spec.w4_shape),
                  mv.reshape(g, spec.out4_shape))
    kernel, (pt, pb, pl, pr) = spec.w4_shape[2:], spec.pads
    (h, w), groups = spec.x4_shape[2:], spec.groups
    gx = gw = None
    if spec.kind == "conv":
        if needs[0]:  # the padded input's gradient is conv_transpose(g), cropped to the input
            full = conv_transpose2d(g4, w4, stride=spec.stride, groups=groups, dilation=spec.dilation)
            gx = _crop_or_pad(full, pt, h, pl, w)
        if needs[1]:
            gw = _conv_weight_grad(x4, g4, kernel, spec.stride, spec.pads, spec.dilation, groups)
    else:
        if needs[0]:  # conv of g with the output's cropped padding restored
            gx = conv2d(mv.pad(g4, ((0, 0), (0, 0), (pt, pb), (pl, pr))), w4, stride=spec.stride,
                        dilation=spec.dilation, groups=groups)
            gx = _crop_or_pad(gx, 0, h, 0, w)
        if needs[1]:
            gw = _conv_weight_grad(g4, x4, kernel, spec.stride, spec.pads, spec.dilation, groups)
    grads = (None if gx is None else mv.reshape(gx, x.shape), None if gw is None else mv.reshape(gw, weight.shape))
    if len(needs) == 2:
        return grads
    return grads + (rd.sum(g4, (0, 2, 3)) if needs[2] else None,)
