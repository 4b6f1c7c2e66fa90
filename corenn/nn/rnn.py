"""Recurrent layers with PyTorch's names, parameters, gate order and initialisation.

Cells (one step): ``RNNCell``, ``LSTMCell``, ``GRUCell``; sequence modules (multi-layer,
optionally bidirectional): ``RNN``, ``LSTM``, ``GRU``. Each layer-direction of a sequence module
is one fused graph node (``corenn.ops.recurrent``): all input projections in one matmul, a loop
over time for h @ W_hh, and backpropagation through time in one backward.

Shapes (L = num_layers, D = 2 if bidirectional else 1, H = hidden_size):
    input (T, B, input_size), or (B, T, input_size) with batch_first, or (T, input_size) unbatched
    h0, c0 (L * D, B, H), or (L * D, H) unbatched; None means zeros
    output (T, B, D * H) (batch_first: (B, T, D * H)); h_n, c_n (L * D, B, H)
Parameters per layer k and direction: weight_ih_l{k} (G * H, in), weight_hh_l{k} (G * H, H),
bias_ih_l{k}, bias_hh_l{k} (G * H,), with the suffix ``_reverse`` for the backward direction;
G = 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n). All start uniform(-1/sqrt(H), 1/sqrt(H)).
"""
import math
import warnings

import numpy as np

from .. import ops
from ..ops.common import as_tensor
from ..ops.recurrent import gru_layer, lstm_layer, rnn_layer
from . import functional as F
from . import init
from .module import Module, Parameter

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _positive_int(value, name, cls):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{cls}: {name} must be a positive int, got {value!r}")
    return int(value)


def _run_layer(mode, x, h0, c0, weights, reverse):
    """One layer-direction: (output (T, B, H), h_n (B, H), c_n or None)."""
    if mode == "LSTM":
        return lstm_layer(x, h0, c0, *weights, reverse=reverse)
    if mode == "GRU":
        out, h = gru_layer(x, h0, *weights, reverse=reverse)
    else:
        out, h = rnn_layer(x, h0, *weights, nonlinearity="relu" if mode == "RNN_RELU" else "tanh", reverse=reverse)
    return out, h, None


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU (see the module docstring for shapes)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=np.float32):
        super().__init__()
        cls = type(self).__name__
        self.mode = mode
        self.input_size = _positive_int(input_size, "input_size", cls)
        self.hidden_size = _positive_int(hidden_size, "hidden_size", cls)
        self.num_layers = _positive_int(num_layers, "num_layers", cls)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{cls}: dropout must be a number in [0, 1], got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{cls}: dropout={dropout} acts between layers (not after the last one), so it does "
                          "nothing with num_layers=1", UserWarning, stacklevel=3)
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        gate_size = _GATES[mode] * self.hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(self.num_layers):
            for direction in range(directions):
                n_in = self.input_size if layer == 0 else self.hidden_size * directions
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gate_size, n_in)), ("weight_hh", (gate_size, self.hidden_size))]
                if self.bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                for name, shape in shapes:
                    setattr(self, name + suffix, Parameter(np.empty(shape, dtype=dtype)))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias uniform(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for name in self._flat_weights_names:
            init.uniform_(getattr(self, name), -bound, bound)

    def _layer_weights(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
        weights = [getattr(self, n + suffix) for n in names]  # read each call (tests may swap them)
        return weights if self.bias else weights + [None, None]

    def _check_input(self, x):
        cls = type(self).__name__
        if x.ndim not in (2, 3):
            raise ValueError(f"{cls}: expected input with 2 (unbatched: (L, input_size)) or 3 dimensions, "
                             f"got shape {x.shape}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{cls}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                             f"got {x.shape[-1]} (input shape {x.shape})")

    def _check_state(self, state, name, batch, batched):
        if state is None:
            return None
        state = as_tensor(state)
        n = self.num_layers * (2 if self.bidirectional else 1)
        expected = (n, batch, self.hidden_size) if batched else (n, self.hidden_size)
        if state.shape != expected:
            raise ValueError(f"{type(self).__name__}: expected {name} of shape {expected} "
                             f"(num_layers * num_directions, {'batch, ' if batched else ''}hidden_size), "
                             f"got {state.shape}")
        return state if batched else ops.unsqueeze(state, 1)

    def _run(self, input, h0, c0):
        """-> output, h_n, c_n (c_n None unless LSTM) in the caller's layout."""
        x = as_tensor(input)
        self._check_input(x)
        batched = x.ndim == 3
        if not batched:
            x = ops.unsqueeze(x, 1)
        elif self.batch_first:
            x = ops.swapaxes(x, 0, 1)
        batch = x.shape[1]
        h0 = self._check_state(h0, "h0", batch, batched)
        c0 = self._check_state(c0, "c0", batch, batched)
        directions = 2 if self.bidirectional else 1
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                out, h, c = _run_layer(self.mode, x, None if h0 is None else h0[k], None if c0 is None else c0[k],
                                       self._layer_weights(layer, direction), direction == 1)
                outs.append(out)
                hs.append(h)
                cs.append(c)
            x = outs[0] if directions == 1 else ops.concatenate(outs, axis=2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:  # between layers only
                x = ops.mul(x, 0.0) if self.dropout == 1.0 else F.dropout(x, self.dropout, training=True)
        h_n = ops.stack(hs, axis=0)
        c_n = ops.stack(cs, axis=0) if self.mode == "LSTM" else None
        if not batched:
            x = ops.squeeze(x, 1)
            h_n = ops.squeeze(h_n, 1)
            c_n = None if c_n is None else ops.squeeze(c_n, 1)
        elif self.batch_first:
            x = ops.swapaxes(x, 0, 1)
        return x, h_n, c_n

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        for name, default in (("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act ``tanh`` or ``relu``.

    forward(input, h0=None) -> (output, h_n); shapes in the module docstring."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=np.float32):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if isinstance(hx, (tuple, list)):
            raise TypeError("RNN: hx must be one tensor h0 of shape (num_layers * num_directions, batch, "
                            "hidden_size), not a tuple")
        out, h_n, _ = self._run(input, hx, None)
        return out, h_n


class GRU(RNNBase):
    """GRU with PyTorch's gates: r, z = sigmoid(.), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h_t = (1 - z) * n + z * h_{t-1}. forward(input, h0=None) -> (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, dtype=np.float32):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype)

    def forward(self, input, hx=None):
        if isinstance(hx, (tuple, list)):
            raise TypeError("GRU: hx must be one tensor h0 of shape (num_layers * num_directions, batch, "
                            "hidden_size), not a tuple")
        out, h_n, _ = self._run(input, hx, None)
        return out, h_n


class LSTM(RNNBase):
    """LSTM with PyTorch's gates i, f, g, o: c_t = f * c_{t-1} + i * g, h_t = o * tanh(c_t).

    forward(input, hx=None) with hx = (h0, c0), each (num_layers * D, B, H), or None for zeros
    -> (output, (h_n, c_n)).

    States per batch element (recurrent policies, e.g. a RecurrentPPO over n_envs environments):
    keep (h, c) of shape (num_layers, n_envs, H) between calls and reset an environment's state
    when its episode starts by multiplying with (1 - episode_start), a float array (n_envs,):
        mask = Tensor((1.0 - episode_start).reshape(1, -1, 1))
        out, (h, c) = lstm(x_t, (h * mask, c * mask))
    Within a training sequence that crosses episode boundaries, step through time with T = 1
    calls and apply the mask before each step (as sb3-contrib's RecurrentPPO does); a sequence
    without episode starts inside it can be one call.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, dtype=np.float32):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype)

    def forward(self, input, hx=None):
        if hx is None:
            h0 = c0 = None
        elif isinstance(hx, (tuple, list)) and len(hx) == 2:
            h0, c0 = hx
        else:
            raise TypeError("LSTM: hx must be a tuple (h0, c0), each of shape (num_layers * num_directions, "
                            f"batch, hidden_size), or None; got {type(hx).__name__}")
        out, h_n, c_n = self._run(input, h0, c0)
        return out, (h_n, c_n)


# --------------------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """One step of a recurrent layer; parameters weight_ih (G * H, input_size), weight_hh (G * H, H),
    bias_ih, bias_hh (G * H,), all uniform(-1/sqrt(H), 1/sqrt(H))."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, dtype=np.float32):
        super().__init__()
        cls = type(self).__name__
        self.input_size = _positive_int(input_size, "input_size", cls)
        self.hidden_size = _positive_int(hidden_size, "hidden_size", cls)
        self.bias = bool(bias)
        g = num_chunks * self.hidden_size
        self.weight_ih = Parameter(np.empty((g, self.input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((g, self.hidden_size), dtype=dtype))
        if self.bias:
            self.bias_ih = Parameter(np.empty(g, dtype=dtype))
            self.bias_hh = Parameter(np.empty(g, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _step(self, input, states):
        """input (B, in) or (in,), states [(name, (B, H) or (H,) or None)] -> (x (1, B, in), states, batched)."""
        cls = type(self).__name__
        x = as_tensor(input)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{cls}: expected input of shape (batch, {self.input_size}) or ({self.input_size},), "
                             f"got {x.shape}")
        batched = x.ndim == 2
        if not batched:
            x = ops.unsqueeze(x, 0)
        expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        checked = []
        for name, s in states:
            if s is not None:
                s = as_tensor(s)
                if s.shape != expected:
                    raise ValueError(f"{cls}: expected {name} of shape {expected}, got {s.shape}")
                if not batched:
                    s = ops.unsqueeze(s, 0)
            checked.append(s)
        return ops.unsqueeze(x, 0), checked, batched

    def _weights(self):
        return [self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity='{self.nonlinearity}'"
        return s


def _unbatch(t, batched):
    return t if batched else ops.squeeze(t, 0)


class RNNCell(RNNCellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh); forward(input (B, in), hx (B, H) or None) -> h' (B, H)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=np.float32):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, 1, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._step(input, [("hx", hx)])
        _, h_new = rnn_layer(x, h, *self._weights(), nonlinearity=self.nonlinearity)
        return _unbatch(h_new, batched)


class LSTMCell(RNNCellBase):
    """forward(input (B, in), (h, c) each (B, H), or None) -> (h', c'); gates i, f, g, o."""

    def __init__(self, input_size, hidden_size, bias=True, dtype=np.float32):
        super().__init__(input_size, hidden_size, bias, 4, dtype)

    def forward(self, input, hx=None):
        if hx is None:
            hx = (None, None)
        elif not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c) or None, got {type(hx).__name__}")
        x, (h, c), batched = self._step(input, [("h", hx[0]), ("c", hx[1])])
        _, h_new, c_new = lstm_layer(x, h, c, *self._weights())
        return _unbatch(h_new, batched), _unbatch(c_new, batched)


class GRUCell(RNNCellBase):
    """forward(input (B, in), hx (B, H) or None) -> h' (B, H); gates r, z, n as in GRU."""

    def __init__(self, input_size, hidden_size, bias=True, dtype=np.float32):
        super().__init__(input_size, hidden_size, bias, 3, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._step(input, [("hx", hx)])
        _, h_new = gru_layer(x, h, *self._weights())
        return _unbatch(h_new, batched)
