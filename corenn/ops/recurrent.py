"""Fused recurrences: one layer of an RNN, LSTM or GRU, in one direction, as ONE graph node.

Each layer-direction is a ``corenn.autograd.Function`` whose forward loops over the time steps and
whose backward runs backpropagation through time, so a sequence of T steps costs one node, not
T * (a dozen) small ones. Shapes (time-major, PyTorch's parameter layout, G = gates * H):
    x (T, B, I), h0 / c0 (B, H) or None (zeros), w_ih (G, I), w_hh (G, H), b_ih / b_hh (G,) or None
    -> output (T, B, H) in time order (also for ``reverse``), h_n (B, H) [, c_n (B, H)]
Gate order is PyTorch's: LSTM i, f, g, o; GRU r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).

Forward: the input projections of ALL steps are one matmul, x (T*B, I) @ w_ih.T, before the loop;
each step adds h @ w_hh.T and applies the gates in place, saving the gate activations. The logistic
gates use sigmoid(a) = 0.5 * tanh(a / 2) + 0.5 (stable, one tanh pass over all gates): their rows of
the weights are halved once per call, which is exact in binary floating point. The LSTM's gates run
internally in the order i, f, o, g (the three sigmoid gates side by side); gradients are put back in
PyTorch's order.

Backward: a reverse loop over the steps computes the pre-activation gradients dA[t] (T, B, G) and
dh_{t-1} = dA[t] @ w_hh; then dW_ih = dA.T @ x, dW_hh = dA.T @ h_prev, the bias gradients and
dx = dA @ w_ih are each ONE matmul (or sum) over all T*B rows.
"""
import numpy as np

from ..autograd import Function
from .common import as_tensor


def _dtype(*arrays):
    return np.result_type(*[a for a in arrays if a is not None])


def _cast(a, dt):
    return None if a is None else a.astype(dt, copy=False)


def _order(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def _prev_states(out, h0, reverse):
    """The state entering each step, in time order: (T, B, H)."""
    first = np.zeros_like(out[0]) if h0 is None else h0
    if reverse:
        return np.concatenate([out[1:], first[None]], axis=0)
    return np.concatenate([first[None], out[:-1]], axis=0)


def _input_gates(x, w_ih, bias):
    """x (T, B, I) @ w_ih.T (+ bias) for every step at once -> (T, B, G), a fresh array."""
    T, B, n_in = x.shape
    xg = np.matmul(x.reshape(T * B, n_in), w_ih.T)
    if bias is not None:
        xg += bias
    return xg.reshape(T, B, -1)


def _weight_grads(ctx, dA, x, h_prev, perm=None):
    """(dx, dw_ih, dw_hh, db) from pre-activation gradients dA (T, B, G), each one matmul or sum.
    ``perm`` maps internal gate rows to PyTorch's rows (LSTM)."""
    T, B, G = dA.shape
    d2 = dA.reshape(T * B, G)
    need = ctx.needs
    dx = dw_ih = dw_hh = db = None
    if need["x"]:
        w_ih = ctx.w_ih if perm is None else ctx.w_ih[perm]
        dx = np.matmul(d2, w_ih).reshape(x.shape)
    if need["w_ih"]:
        dw_ih = np.matmul(d2.T, x.reshape(T * B, -1))
    if need["w_hh"]:
        dw_hh = np.matmul(d2.T, h_prev.reshape(T * B, -1))
    if need["b_ih"] or need["b_hh"]:
        db = d2.sum(axis=0)
    if perm is not None:
        dw_ih, dw_hh, db = (None if a is None else _unpermute(a, perm) for a in (dw_ih, dw_hh, db))
    return dx, dw_ih, dw_hh, db


def _unpermute(a, perm):
    out = np.empty_like(a)
    out[perm] = a
    return out


def _save_inputs(ctx, names, values):
    """Remember which arguments are Tensors (non-None) and which gradients are wanted."""
    present = [v is not None for v in values]
    flags = iter(ctx.needs_input_grad)
    ctx.needs = {n: (next(flags) if p else False) for n, p in zip(names, present)}
    ctx.present = present
    ctx.set_materialize_grads(False)


def _grads_for_inputs(ctx, grads):
    """One gradient per Tensor argument, in argument order."""
    return tuple(g for g, p in zip(grads, ctx.present) if p)


def _start(g_last, like):
    """The gradient entering the last step from h_n (a fresh, writable array)."""
    return np.zeros_like(like) if g_last is None else g_last.astype(like.dtype, copy=True)


# --------------------------------------------------------------------------------------- RNN
class RNNLayer(Function):
    """h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", reverse=False):
        _save_inputs(ctx, ("x", "h0", "w_ih", "w_hh", "b_ih", "b_hh"), (x, h0, w_ih, w_hh, b_ih, b_hh))
        dt = _dtype(x, w_ih)
        x, h0, w_ih, w_hh, b_ih, b_hh = (_cast(a, dt) for a in (x, h0, w_ih, w_hh, b_ih, b_hh))
        T, B = x.shape[:2]
        bias = None if b_ih is None else b_ih + b_hh
        acts = _input_gates(x, w_ih, bias)  # becomes the outputs in place
        w_hh_t = w_hh.T
        tmp = np.empty((B, w_hh.shape[0]), dt)
        h = h0
        for t in _order(T, reverse):
            a = acts[t]
            if h is not None:
                np.matmul(h, w_hh_t, out=tmp)
                a += tmp
            if nonlinearity == "tanh":
                np.tanh(a, out=a)
            else:
                np.maximum(a, 0.0, out=a)
            h = a
        ctx.w_ih, ctx.w_hh, ctx.reverse, ctx.relu = w_ih, w_hh, reverse, nonlinearity == "relu"
        ctx.save_for_backward(x, h0, acts)
        return acts, h.copy()

    @staticmethod
    def backward(ctx, g_out, g_h):
        x, h0, out = ctx.saved_tensors
        T = out.shape[0]
        dA = np.empty_like(out)
        dh = _start(g_h, out[0])
        for t in _order(T, not ctx.reverse):
            if g_out is not None:
                dh += g_out[t]
            d = dA[t]
            if ctx.relu:
                np.multiply(dh, out[t] > 0.0, out=d)
            else:
                np.multiply(out[t], out[t], out=d)
                np.subtract(1.0, d, out=d)
                d *= dh
            dh = np.matmul(d, ctx.w_hh)
        dx, dw_ih, dw_hh, db = _weight_grads(ctx, dA, x, _prev_states(out, h0, ctx.reverse))
        return _grads_for_inputs(ctx, (dx, dh, dw_ih, dw_hh, db, db))


# --------------------------------------------------------------------------------------- LSTM
def _lstm_perm(H):
    """Internal gate rows (i, f, o, g) taken from PyTorch's (i, f, g, o)."""
    return np.concatenate([np.arange(0, 2 * H), np.arange(3 * H, 4 * H), np.arange(2 * H, 3 * H)])


class LSTMLayer(Function):
    """c_t = f * c_{t-1} + i * g, h_t = o * tanh(c_t); gates from x_t W_ih^T + h_{t-1} W_hh^T + b."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False):
        _save_inputs(ctx, ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh"), (x, h0, c0, w_ih, w_hh, b_ih, b_hh))
        dt = _dtype(x, w_ih)
        x, h0, c0, w_ih, w_hh, b_ih, b_hh = (_cast(a, dt) for a in (x, h0, c0, w_ih, w_hh, b_ih, b_hh))
        T, B = x.shape[:2]
        H = w_hh.shape[1]
        perm = _lstm_perm(H)
        scale = np.ones((4 * H, 1), dt)
        scale[:3 * H] = 0.5  # sigmoid(a) = 0.5 * tanh(a / 2) + 0.5
        bias = None if b_ih is None else (b_ih + b_hh)[perm] * scale[:, 0]
        acts = _input_gates(x, w_ih[perm] * scale, bias)  # pre-activations, then gate values in place
        w_hh_t = (w_hh[perm] * scale).T
        cs, tcs, out = (np.empty((T, B, H), dt) for _ in range(3))
        tmp, ig = np.empty((B, 4 * H), dt), np.empty((B, H), dt)
        h, c = h0, c0
        for t in _order(T, reverse):
            a = acts[t]
            if h is not None:
                np.matmul(h, w_hh_t, out=tmp)
                a += tmp
            np.tanh(a, out=a)
            s = a[:, :3 * H]
            s *= 0.5
            s += 0.5
            i, f, o, g = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            c_new = cs[t]
            np.multiply(i, g, out=c_new)
            if c is not None:
                np.multiply(f, c, out=ig)
                c_new += ig
            np.tanh(c_new, out=tcs[t])
            np.multiply(o, tcs[t], out=out[t])
            h, c = out[t], c_new
        ctx.w_ih, ctx.w_hh, ctx.reverse, ctx.perm = w_ih, w_hh, reverse, perm
        ctx.save_for_backward(x, h0, c0, acts, cs, tcs, out)
        return out, h.copy(), c.copy()

    @staticmethod
    def backward(ctx, g_out, g_h, g_c):
        x, h0, c0, acts, cs, tcs, out = ctx.saved_tensors
        T, B, H = out.shape
        perm, reverse = ctx.perm, ctx.reverse
        w_hh = ctx.w_hh[perm]
        dA = np.empty_like(acts)
        dh, dc = _start(g_h, out[0]), _start(g_c, out[0])
        tmp = np.empty((B, H), out.dtype)
        zeros = np.zeros((B, H), out.dtype)
        for t in _order(T, not reverse):
            if g_out is not None:
                dh += g_out[t]
            a, d, tc = acts[t], dA[t], tcs[t]
            i, f, o, g = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            first = t == (T - 1 if reverse else 0)
            c_prev = (zeros if c0 is None else c0) if first else cs[t + 1 if reverse else t - 1]
            np.multiply(dh, tc, out=d[:, 2 * H:3 * H])  # do
            np.multiply(tc, tc, out=tmp)
            np.subtract(1.0, tmp, out=tmp)
            tmp *= o
            tmp *= dh
            dc += tmp  # dc_t = dc_{t+1} f_{t+1} + dh o (1 - tanh(c)^2)
            np.multiply(dc, g, out=d[:, :H])  # di
            np.multiply(dc, c_prev, out=d[:, H:2 * H])  # df
            np.multiply(dc, i, out=d[:, 3 * H:])  # dg
            s, ds = a[:, :3 * H], d[:, :3 * H]
            ds *= s
            ds *= 1.0 - s  # logistic derivative s (1 - s)
            np.multiply(g, g, out=tmp)
            np.subtract(1.0, tmp, out=tmp)
            d[:, 3 * H:] *= tmp
            dc *= f
            dh = np.matmul(d, w_hh)
        dx, dw_ih, dw_hh, db = _weight_grads(ctx, dA, x, _prev_states(out, h0, reverse), perm)
        return _grads_for_inputs(ctx, (dx, dh, dc, dw_ih, dw_hh, db, db))


# --------------------------------------------------------------------------------------- GRU
class GRULayer(Function):
    """r, z = sigmoid(.), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h_t = (1 - z) n + z h_{t-1}."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, reverse=False):
        _save_inputs(ctx, ("x", "h0", "w_ih", "w_hh", "b_ih", "b_hh"), (x, h0, w_ih, w_hh, b_ih, b_hh))
        dt = _dtype(x, w_ih)
        x, h0, w_ih, w_hh, b_ih, b_hh = (_cast(a, dt) for a in (x, h0, w_ih, w_hh, b_ih, b_hh))
        T, B = x.shape[:2]
        H = w_hh.shape[1]
        scale = np.ones((3 * H, 1), dt)
        scale[:2 * H] = 0.5
        bias = b_hn = None
        if b_ih is not None:
            bias = b_ih * scale[:, 0]
            bias[:2 * H] += 0.5 * b_hh[:2 * H]
            b_hn = b_hh[2 * H:]
        acts = _input_gates(x, w_ih * scale, bias)  # r, z, n
        w_hh_t = (w_hh * scale).T
        hn_all, out = np.empty((T, B, H), dt), np.empty((T, B, H), dt)
        tmp, rh = np.empty((B, 3 * H), dt), np.empty((B, H), dt)
        zeros = np.zeros((B, H), dt)
        h = zeros if h0 is None else h0
        for t in _order(T, reverse):
            a, hn, h_new = acts[t], hn_all[t], out[t]
            np.matmul(h, w_hh_t, out=tmp)
            rz = a[:, :2 * H]
            rz += tmp[:, :2 * H]
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
            if b_hn is None:
                hn[...] = tmp[:, 2 * H:]
            else:
                np.add(tmp[:, 2 * H:], b_hn, out=hn)
            np.multiply(r, hn, out=rh)
            n += rh
            np.tanh(n, out=n)
            np.subtract(h, n, out=h_new)
            h_new *= z
            h_new += n
            h = h_new
        ctx.w_ih, ctx.w_hh, ctx.reverse = w_ih, w_hh, reverse
        ctx.save_for_backward(x, h0, acts, hn_all, out)
        return out, h.copy()

    @staticmethod
    def backward(ctx, g_out, g_h):
        x, h0, acts, hn_all, out = ctx.saved_tensors
        T, B, H = out.shape
        reverse, w_hh = ctx.reverse, ctx.w_hh
        dHg = np.empty_like(acts)  # gradients of the h-side pre-activations (r, z, r * hn part)
        dXn = np.empty((T, B, H), out.dtype)  # gradients of the x-side n pre-activation
        h_prev_all = _prev_states(out, h0, reverse)
        dh = _start(g_h, out[0])
        tmp = np.empty((B, H), out.dtype)
        for t in _order(T, not reverse):
            if g_out is not None:
                dh += g_out[t]
            a, d, dn = acts[t], dHg[t], dXn[t]
            r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
            dz = d[:, H:2 * H]
            np.subtract(h_prev_all[t], n, out=dz)
            dz *= dh
            np.multiply(z, z, out=tmp)
            np.subtract(z, tmp, out=tmp)
            dz *= tmp  # dh (h_prev - n) z (1 - z)
            np.subtract(1.0, z, out=dn)
            dn *= dh
            np.multiply(n, n, out=tmp)
            np.subtract(1.0, tmp, out=tmp)
            dn *= tmp  # dh (1 - z) (1 - n^2)
            dr = d[:, :H]
            np.multiply(dn, hn_all[t], out=dr)
            np.multiply(r, r, out=tmp)
            np.subtract(r, tmp, out=tmp)
            dr *= tmp  # dn hn r (1 - r)
            np.multiply(dn, r, out=d[:, 2 * H:])
            dh_new = np.matmul(d, w_hh)
            np.multiply(dh, z, out=tmp)
            dh_new += tmp
            dh = dh_new
        need = ctx.needs
        dx = dw_ih = db_ih = dw_hh = db_hh = None
        G = 3 * H
        if need["x"] or need["w_ih"] or need["b_ih"]:
            dXg = dHg.copy()
            dXg[:, :, 2 * H:] = dXn
            d2 = dXg.reshape(T * B, G)
            if need["x"]:
                dx = np.matmul(d2, ctx.w_ih).reshape(x.shape)
            if need["w_ih"]:
                dw_ih = np.matmul(d2.T, x.reshape(T * B, -1))
            if need["b_ih"]:
                db_ih = d2.sum(axis=0)
        d2 = dHg.reshape(T * B, G)
        if need["w_hh"]:
            dw_hh = np.matmul(d2.T, h_prev_all.reshape(T * B, H))
        if need["b_hh"]:
            db_hh = d2.sum(axis=0)
        return _grads_for_inputs(ctx, (dx, dh, dw_ih, dw_hh, db_ih, db_hh))


# --------------------------------------------------------------------------------------- functional forms
def _check(fn, x, states, w_ih, w_hh, b_ih, b_hh, gates):
    """Tensors (or None) for the arguments in order; a ValueError naming any shape that does not fit."""
    x, w_ih, w_hh = as_tensor(x), as_tensor(w_ih), as_tensor(w_hh)
    if x.ndim != 3 or x.shape[0] < 1:
        raise ValueError(f"{fn}: expected a time-major input (T, B, input_size) with T >= 1, got shape {x.shape}")
    T, B, n_in = x.shape
    if w_hh.ndim != 2 or w_hh.shape[0] != gates * w_hh.shape[1]:
        raise ValueError(f"{fn}: w_hh must have shape ({gates} * hidden_size, hidden_size), got {w_hh.shape}")
    H = w_hh.shape[1]
    if w_ih.shape != (gates * H, n_in):
        raise ValueError(f"{fn}: w_ih must have shape {(gates * H, n_in)} for input size {n_in} and hidden "
                         f"size {H}, got {w_ih.shape}")
    if (b_ih is None) != (b_hh is None):
        raise ValueError(f"{fn}: give both b_ih and b_hh, or neither")
    out = [x]
    for name, s in states:
        if s is not None:
            s = as_tensor(s)
            if s.shape != (B, H):
                raise ValueError(f"{fn}: expected {name} of shape {(B, H)} (batch, hidden_size), got {s.shape}")
        out.append(s)
    out += [w_ih, w_hh]
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None:
            b = as_tensor(b)
            if b.shape != (gates * H,):
                raise ValueError(f"{fn}: {name} must have shape {(gates * H,)}, got {b.shape}")
        out.append(b)
    return out


def rnn_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh", reverse=False):
    """One Elman RNN layer over a sequence; x (T, B, I), h0 (B, H) or None -> (output (T, B, H), h_n (B, H))."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_layer: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    args = _check("rnn_layer", x, [("h0", h0)], w_ih, w_hh, b_ih, b_hh, 1)
    return RNNLayer.apply(*args, nonlinearity=nonlinearity, reverse=bool(reverse))


def lstm_layer(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """One LSTM layer; x (T, B, I), h0, c0 (B, H) or None -> (output (T, B, H), h_n (B, H), c_n (B, H))."""
    args = _check("lstm_layer", x, [("h0", h0), ("c0", c0)], w_ih, w_hh, b_ih, b_hh, 4)
    return LSTMLayer.apply(*args, reverse=bool(reverse))


def gru_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """One GRU layer; x (T, B, I), h0 (B, H) or None -> (output (T, B, H), h_n (B, H))."""
    args = _check("gru_layer", x, [("h0", h0)], w_ih, w_hh, b_ih, b_hh, 3)
    return GRULayer.apply(*args, reverse=bool(reverse))
