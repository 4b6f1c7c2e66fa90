"""2-D pooling and resampling on NCHW tensors (PyTorch's names, arguments and index formulas).

Each op is one graph node. Max and average pooling read their windows through strided views of
the (padded) input and scatter gradients back with one strided-slice addition per kernel offset
(kH * kW passes, never per pixel); adaptive average pooling is a separable pooling matrix per
axis; nearest and bilinear interpolation gather rows/columns and scatter back with
``np.add.reduceat`` over their monotonic source indices.  (C, H, W) inputs are accepted and treated
as a batch of one.
"""
import math
import numbers

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .common import as_tensor, node

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "interpolate", "upsample"]


def _pair(v, name):
    if isinstance(v, numbers.Integral):
        return int(v), int(v)
    v = tuple(v)
    if len(v) == 1:
        return int(v[0]), int(v[0])
    if len(v) != 2 or not all(isinstance(a, numbers.Integral) for a in v):
        raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
    return int(v[0]), int(v[1])


def _as_batched(x, name):
    """Return (tensor, 4-D data, unbatched flag) for a (N, C, H, W) or (C, H, W) input."""
    x = as_tensor(x)
    xd = x.data
    if xd.ndim == 3:
        return x, xd[None], True
    if xd.ndim != 4:
        raise ValueError(f"{name} expects a (N, C, H, W) or (C, H, W) input, got shape {xd.shape}")
    return x, xd, False


def _finish(x, out, unbatched, backward4):
    """Make the node; ``backward4`` maps a 4-D output gradient to a 4-D input gradient."""
    if unbatched:
        return node(out[0], (x,), lambda g: (backward4(g[None])[0],))
    return node(out, (x,), lambda g: (backward4(g),))


def _pool_out_size(size, k, s, p, d, ceil_mode, name):
    eff = d * (k - 1) + 1
    if k < 1 or s < 1 or d < 1 or p < 0:
        raise ValueError(f"{name}: kernel_size, stride and dilation must be positive and padding "
                         f"non-negative, got kernel_size={k}, stride={s}, padding={p}, dilation={d}")
    if p > eff // 2:
        raise ValueError(f"{name}: padding should be at most half of the effective kernel size, "
                         f"got padding={p} for kernel_size={k}, dilation={d}")
    num = size + 2 * p - eff
    out = (num + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    if num < 0 or out < 1:
        raise ValueError(f"{name}: input size {size} with kernel_size={k}, padding={p}, dilation={d} "
                         f"gives an output smaller than 1")
    return out


def _pad_amounts(size, out, k, s, p, d):
    """Left and right padding so that every window of the output lies inside the padded axis."""
    need = (out - 1) * s + d * (k - 1) + 1
    return p, max(need - size - p, 0)


def _pad(xd, ph, pw, value):
    if not any(ph) and not any(pw):
        return xd
    return np.pad(xd, ((0, 0), (0, 0), ph, pw), constant_values=value)


def _offset_slice(i, j, geom):
    (oh, ow), (sh, sw), (dh, dw) = geom
    return (slice(None), slice(None), slice(i * dh, i * dh + (oh - 1) * sh + 1, sh),
            slice(j * dw, j * dw + (ow - 1) * sw + 1, sw))


def _pool_setup(xd, kernel_size, stride, padding, dilation, ceil_mode, name):
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(kernel_size if stride is None or stride == () or stride == [] else stride, "stride")
    ph, pw = _pair(padding, "padding")
    dh, dw = _pair(dilation, "dilation")
    h, w = xd.shape[2:]
    oh = _pool_out_size(h, kh, sh, ph, dh, ceil_mode, name)
    ow = _pool_out_size(w, kw, sw, pw, dw, ceil_mode, name)
    pads = (_pad_amounts(h, oh, kh, sh, ph, dh), _pad_amounts(w, ow, kw, sw, pw, dw))
    return (kh, kw), ((oh, ow), (sh, sw), (dh, dw)), pads


def _scatter_offsets(g_per_offset, shape, dtype, kernel, geom, pads):
    """Sum the per-offset gradients into the padded input and crop the padding off."""
    (kh, kw), ((ph, _), (pw, _)) = kernel, pads
    n, c, h, w = shape
    gp = np.zeros((n, c, ph + h + pads[0][1], pw + w + pads[1][1]), dtype=dtype)
    for i in range(kh):
        for j in range(kw):
            gp[_offset_slice(i, j, geom)] += g_per_offset(i, j)
    return gp[:, :, ph:ph + h, pw:pw + w]


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Maximum over each (dilated) window; padding counts as -inf.  The gradient goes to the
    first maximum of each window in row-major order (a NaN wins, as in PyTorch)."""
    x, xd, unbatched = _as_batched(x, "max_pool2d")
    (kh, kw), geom, pads = _pool_setup(xd, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    pad_value = -np.inf if xd.dtype.kind == "f" else np.iinfo(xd.dtype).min
    xp = _pad(xd, *pads, value=pad_value)
    offsets = [_offset_slice(t // kw, t % kw, geom) for t in range(kh * kw)]
    (_, (sh, sw), (dh, dw)) = geom
    disjoint = sh >= dh * (kh - 1) + 1 and sw >= dw * (kw - 1) + 1  # no input element in two windows
    out = xp[offsets[0]].copy()
    for sl in offsets[1:]:
        np.maximum(out, xp[sl], out=out)  # NaN propagates, as in PyTorch

    def backward4(g):
        # The first window element (row-major) equal to the maximum takes the gradient; the
        # argmax is found here rather than kept from the forward pass, which stays three ufuncs.
        nan_windows = xd.dtype.kind == "f" and np.isnan(out).any()
        gp = np.zeros(xp.shape, dtype=xd.dtype)
        taken = None
        for sl in offsets:
            hit = xp[sl] == out
            if nan_windows:
                hit |= np.isnan(xp[sl])
            if taken is None:
                taken = hit
            else:
                hit = hit > taken  # hit and not taken by an earlier element
                taken |= hit
            if disjoint:
                np.multiply(hit, g, out=gp[sl])
            else:
                gp[sl] += hit * g
        (ph, _), (pw, _) = pads
        return gp[:, :, ph:ph + xd.shape[2], pw:pw + xd.shape[3]]
    return _finish(x, out, unbatched, backward4)


def _avg_divisor(size, out, k, s, p, count_include_pad):
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over each window (zero padding); the divisor follows PyTorch: the window clipped to
    the padded input with ``count_include_pad``, to the input without it, or ``divisor_override``."""
    x, xd, unbatched = _as_batched(x, "avg_pool2d")
    if xd.dtype.kind != "f":
        raise TypeError(f"avg_pool2d expects a floating-point input, got dtype {xd.dtype}")
    kernel, geom, pads = _pool_setup(xd, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    (kh, kw), ((oh, ow), (sh, sw), _) = kernel, geom
    h, w = xd.shape[2:]
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError("avg_pool2d: divisor_override must be non-zero")
        div = np.full((oh, ow), float(divisor_override))
    else:
        div = np.multiply.outer(_avg_divisor(h, oh, kh, sh, pads[0][0], count_include_pad),
                                _avg_divisor(w, ow, kw, sw, pads[1][0], count_include_pad)).astype(np.float64)
    inv = (1.0 / div).astype(xd.dtype)
    xp = _pad(xd, *pads, value=0)
    n, c = xp.shape[:2]
    s0, s1, s2, s3 = xp.strides
    windows = as_strided(xp, (n, c, oh, ow, kh, kw), (s0, s1, s2 * sh, s3 * sw, s2, s3), writeable=False)
    out = windows.sum(axis=(4, 5)) * inv

    def backward4(g):
        gs = g * inv
        return _scatter_offsets(lambda i, j: gs, xd.shape, xd.dtype, kernel, geom, pads)
    return _finish(x, out, unbatched, backward4)


def _adaptive_matrix(size, out):
    """(out, size) pooling matrix: row i averages [floor(i*size/out), ceil((i+1)*size/out))."""
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    cols = np.arange(size)
    inside = (cols >= start[:, None]) & (cols < end[:, None])
    return inside / (end - start)[:, None]


def adaptive_avg_pool2d(x, output_size):
    """Average pooling to ``output_size`` (int, pair, ``None`` entries keep the input size) with
    PyTorch's windows [floor(i*H/oH), ceil((i+1)*H/oH))."""
    x, xd, unbatched = _as_batched(x, "adaptive_avg_pool2d")
    if xd.dtype.kind != "f":
        raise TypeError(f"adaptive_avg_pool2d expects a floating-point input, got dtype {xd.dtype}")
    h, w = xd.shape[2:]
    if isinstance(output_size, numbers.Integral) or output_size is None:
        output_size = (output_size, output_size)
    oh, ow = (s if s is not None else d for s, d in zip(tuple(output_size), (h, w)))
    if oh < 1 or ow < 1 or h < 1 or w < 1:
        raise ValueError(f"adaptive_avg_pool2d: output size {(oh, ow)} and input size {(h, w)} must be positive")
    mh = _adaptive_matrix(h, oh).astype(xd.dtype)
    mw_t = _adaptive_matrix(w, ow).T.astype(xd.dtype)
    out = mh @ xd @ mw_t

    def backward4(g):
        return mh.T @ g @ mw_t.T
    return _finish(x, out, unbatched, backward4)


# ---- interpolation ----------------------------------------------------------------------------

def _scatter_sorted(g, idx, size, axis):
    """Sum ``g``'s entries along ``axis`` into ``size`` bins given non-decreasing bin indices."""
    uniq, starts = np.unique(idx, return_index=True)
    sums = np.add.reduceat(g, starts, axis=axis)
    shape = list(g.shape)
    shape[axis] = size
    out = np.zeros(shape, dtype=g.dtype)
    key = [slice(None)] * g.ndim
    key[axis] = uniq
    out[tuple(key)] = sums
    return out


def _nearest_index(in_size, out_size, scale, exact):
    dst = np.arange(out_size)
    if not exact and out_size == in_size:
        return dst
    if not exact and out_size == 2 * in_size:
        return dst >> 1
    # float32 arithmetic as in PyTorch's kernels (compute_scales_value<float>)
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(in_size) / np.float32(out_size)
    # nearest: float32 dst * scale; nearest-exact: (dst + 0.5) in double times the float32 scale
    src = (dst + 0.5) * np.float64(s) if exact else dst.astype(np.float32) * s
    return np.minimum(np.floor(src).astype(np.intp), in_size - 1)


def _linear_weights(in_size, out_size, scale, align_corners):
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners:
        src = dst * ((in_size - 1) / (out_size - 1) if out_size > 1 else 0.0)
    else:
        s = 1.0 / scale if scale is not None and scale > 0 else in_size / out_size
        src = np.maximum(s * (dst + 0.5) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.intp), in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    lam1 = src - i0
    return i0, i1, 1.0 - lam1, lam1


def _lerp(a, i0, i1, w0, w1, axis):
    """w0 * a[i0] + w1 * a[i1] along ``axis`` (np.take is much faster than fancy indexing here)."""
    out = np.take(a, i0, axis=axis)
    out *= w0
    tmp = np.take(a, i1, axis=axis)
    tmp *= w1
    out += tmp
    return out


def _resolve_size(shape, size, scale_factor, recompute_scale_factor):
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is only meaningful with scale_factor")
        out = _pair(size, "size")
        scales = (None, None)
    else:
        sf = (scale_factor, scale_factor) if isinstance(scale_factor, numbers.Real) else tuple(scale_factor)
        if len(sf) != 2 or any(s <= 0 for s in sf):
            raise ValueError(f"interpolate: scale_factor must be positive (one or two values), got {scale_factor!r}")
        out = tuple(int(math.floor(float(n) * float(s))) for n, s in zip(shape, sf))
        scales = (None, None) if recompute_scale_factor else tuple(float(s) for s in sf)
    if min(out) < 1:
        raise ValueError(f"interpolate: output size {out} must be positive")
    return out, scales


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None):
    """Resize the spatial dims of (N, C, H, W) (or (C, H, W)) with ``mode`` 'nearest',
    'nearest-exact', 'bilinear' or 'area', with PyTorch's source-index formulas."""
    x, xd, unbatched = _as_batched(x, "interpolate")
    if mode not in ("nearest", "nearest-exact", "bilinear", "area"):
        raise ValueError(f"interpolate: mode must be 'nearest', 'nearest-exact', 'bilinear' or 'area' "
                         f"for 4-D inputs, got {mode!r}")
    if mode != "bilinear" and align_corners is not None:
        raise ValueError("interpolate: align_corners can only be set with mode 'bilinear'")
    if xd.dtype.kind != "f":
        raise TypeError(f"interpolate expects a floating-point input, got dtype {xd.dtype}")
    h, w = xd.shape[2:]
    (oh, ow), (sh, sw) = _resolve_size((h, w), size, scale_factor, recompute_scale_factor)
    if mode == "area":
        return adaptive_avg_pool2d(x, (oh, ow))
    if mode != "bilinear":
        exact = mode == "nearest-exact"
        ih, iw = _nearest_index(h, oh, sh, exact), _nearest_index(w, ow, sw, exact)
        out = np.take(np.take(xd, ih, axis=2), iw, axis=3)

        def backward4(g):
            return _scatter_sorted(_scatter_sorted(g, iw, w, 3), ih, h, 2)
        return _finish(x, out, unbatched, backward4)

    ac = bool(align_corners)
    h0, h1, a0, a1 = (np.asarray(v) for v in _linear_weights(h, oh, sh, ac))
    w0, w1, b0, b1 = _linear_weights(w, ow, sw, ac)
    a0, a1 = (a.astype(xd.dtype)[:, None] for a in (a0, a1))
    b0, b1 = (b.astype(xd.dtype) for b in (b0, b1))
    rows = _lerp(xd, w0, w1, b0, b1, 3)                         # (N, C, H, oW)
    out = _lerp(rows, h0, h1, a0, a1, 2)

    def backward4(g):
        gr = _scatter_sorted(g * a0, h0, h, 2) + _scatter_sorted(g * a1, h1, h, 2)
        return _scatter_sorted(gr * b0, w0, w, 3) + _scatter_sorted(gr * b1, w1, w, 3)
    return _finish(x, out, unbatched, backward4)


def upsample(x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """PyTorch's (deprecated) alias of :func:`interpolate`."""
    return interpolate(x, size=size, scale_factor=scale_factor, mode=mode, align_corners=align_corners)
