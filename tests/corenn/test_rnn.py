"""Recurrent layers: gradient checks in float64, PyTorch parity, dropout, shape errors and state handling."""
import math

import numpy as np
import pytest

import corenn as cn
from corenn import nn
from corenn.autograd import toposort

MODES = {"rnn_tanh": (nn.RNN, {"nonlinearity": "tanh"}), "rnn_relu": (nn.RNN, {"nonlinearity": "relu"}),
         "lstm": (nn.LSTM, {}), "gru": (nn.GRU, {})}
CELLS = {"rnn_tanh": (nn.RNNCell, {"nonlinearity": "tanh"}), "rnn_relu": (nn.RNNCell, {"nonlinearity": "relu"}),
         "lstm": (nn.LSTMCell, {}), "gru": (nn.GRUCell, {})}


def rand(shape, seed, scale=1.0):
    return np.random.default_rng(seed).uniform(-scale, scale, shape)


def call(module, x, h0=None, c0=None):
    """Run a sequence module or cell; return every output as a flat tuple."""
    lstm = isinstance(module, (nn.LSTM, nn.LSTMCell))
    state = (h0, c0) if lstm and h0 is not None else h0
    res = module(x, state)
    if isinstance(module, nn.RNNBase):
        out, state = res
        return (out, *state) if lstm else (out, state)
    return tuple(res) if lstm else (res,)


def gradcheck_module(module, inputs, run):
    """corenn.gradcheck over the inputs AND every parameter (swapped in as plain attributes, as
    tests/corenn/test_normalization2d.py does, so that the gradients land on the checked tensors)."""
    named = list(module.named_parameters())
    params = [cn.Tensor(p.data.copy(), requires_grad=True) for _, p in named]

    def fn(*tensors):
        for (name, _), t in zip(named, tensors[len(inputs):]):
            object.__setattr__(module, name, t)
        return run(*tensors[:len(inputs)])
    try:
        assert cn.gradcheck(fn, [*inputs, *params], atol=1e-6, rtol=1e-4)
    finally:
        for name, p in named:
            object.__setattr__(module, name, p)


# ------------------------------------------------------------------------------------ gradient checks
@pytest.mark.parametrize("mode", list(CELLS))
@pytest.mark.parametrize("batched", [True, False])
def test_cell_gradcheck(mode, batched):
    cls, kw = CELLS[mode]
    cn.manual_seed(0)
    cell = cls(3, 4, dtype=np.float64, **kw)
    lead = (2,) if batched else ()
    x = cn.Tensor(rand(lead + (3,), 1), requires_grad=True)
    states = [cn.Tensor(rand(lead + (4,), s), requires_grad=True) for s in (2, 3)[:2 if mode == "lstm" else 1]]
    gradcheck_module(cell, [x, *states], lambda *a: call(cell, *a))


SEQ_CONFIGS = [  # (num_layers, bidirectional, batch_first, initial states, bias)
    (2, True, True, True, True),
    (1, False, False, False, False),
    (2, False, False, True, True),
]


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("layers,bidir,batch_first,with_states,bias", SEQ_CONFIGS)
def test_sequence_gradcheck(mode, layers, bidir, batch_first, with_states, bias):
    cls, kw = MODES[mode]
    cn.manual_seed(1)
    m = cls(3, 2, num_layers=layers, bidirectional=bidir, batch_first=batch_first, bias=bias, dtype=np.float64, **kw)
    T, B, D = 3, 2, 2 if bidir else 1
    x = cn.Tensor(rand((B, T, 3) if batch_first else (T, B, 3), 4), requires_grad=True)
    inputs = [x]
    if with_states:
        seeds = (5, 6)[:2 if mode == "lstm" else 1]
        inputs += [cn.Tensor(rand((layers * D, B, 2), s), requires_grad=True) for s in seeds]
    gradcheck_module(m, inputs, lambda *a: call(m, *a))


def test_functional_layers_gradcheck_reverse():
    rng = np.random.default_rng(0)
    x, h0, c0 = rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    w = {g: (rng.standard_normal((g * 2, 3)), rng.standard_normal((g * 2, 2)), rng.standard_normal(g * 2),
             rng.standard_normal(g * 2)) for g in (1, 3, 4)}
    fn = cn.nn.functional
    assert cn.gradcheck(lambda *a: fn.rnn_layer(*a, nonlinearity="tanh", reverse=True), [x, h0, *w[1]])
    assert cn.gradcheck(lambda *a: fn.gru_layer(*a, reverse=True), [x, h0, *w[3]])
    assert cn.gradcheck(lambda *a: fn.lstm_layer(*a, reverse=True), [x, h0, c0, *w[4]])


# ------------------------------------------------------------------------------------ PyTorch parity
@pytest.fixture
def torch1():
    torch = pytest.importorskip("torch")
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(prev)


def copy_from_torch(ours, theirs):
    """Copy weights by name; strict loading also checks that names and shapes agree."""
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def check_parity(torch, ours, theirs, x, states, atol=1e-10):
    """Outputs, final states, and gradients of input, initial states and every parameter."""
    cx = cn.Tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    cs = [cn.Tensor(s, requires_grad=True) for s in states]
    ts = [torch.tensor(s, requires_grad=True) for s in states]
    lstm = isinstance(ours, (nn.LSTM, nn.LSTMCell))
    mine = call(ours, cx, *cs)
    tres = theirs(tx, (tuple(ts) if lstm else ts[0]) if ts else None)
    if isinstance(theirs, torch.nn.RNNBase):
        tres = (tres[0], *tres[1]) if lstm else tres
    elif not lstm:
        tres = (tres,)
    assert len(mine) == len(tres)
    loss, tloss = 0.0, 0.0
    for i, (a, b) in enumerate(zip(mine, tres)):
        np.testing.assert_allclose(a.data, b.detach().numpy(), atol=atol, rtol=1e-5)
        w = np.random.default_rng(10 + i).standard_normal(a.shape).astype(a.data.dtype)
        loss = loss + (a * cn.Tensor(w)).sum()
        tloss = tloss + (b * torch.tensor(w)).sum()
    loss.backward()
    tloss.backward()
    for a, b in zip([cx, *cs], [tx, *ts]):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), atol=atol, rtol=1e-5)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, tparams[name].grad.numpy(), atol=atol, rtol=1e-5, err_msg=name)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("layers,bidir,batch_first,with_states,bias", SEQ_CONFIGS)
def test_sequence_torch_parity(torch1, mode, layers, bidir, batch_first, with_states, bias):
    cls, kw = MODES[mode]
    tcls = {nn.RNN: torch1.nn.RNN, nn.LSTM: torch1.nn.LSTM, nn.GRU: torch1.nn.GRU}[cls]
    torch1.manual_seed(0)
    theirs = tcls(5, 6, num_layers=layers, bidirectional=bidir, batch_first=batch_first, bias=bias, **kw).double()
    ours = cls(5, 6, num_layers=layers, bidirectional=bidir, batch_first=batch_first, bias=bias, dtype=np.float64,
               **kw)
    copy_from_torch(ours, theirs)
    T, B, D = 7, 3, 2 if bidir else 1
    x = rand((B, T, 5) if batch_first else (T, B, 5), 1, 2.0)
    states = [rand((layers * D, B, 6), s) for s in (2, 3)[:2 if mode == "lstm" else 1]] if with_states else []
    check_parity(torch1, ours, theirs, x, states)


@pytest.mark.parametrize("mode", list(MODES))
def test_unbatched_and_float32_torch_parity(torch1, mode):
    cls, kw = MODES[mode]
    tcls = {nn.RNN: torch1.nn.RNN, nn.LSTM: torch1.nn.LSTM, nn.GRU: torch1.nn.GRU}[cls]
    torch1.manual_seed(1)
    theirs = tcls(4, 5, num_layers=2, bidirectional=True, **kw)
    ours = cls(4, 5, num_layers=2, bidirectional=True, **kw)
    assert all(p.dtype == np.float32 for p in ours.parameters())
    copy_from_torch(ours, theirs)
    x = rand((6, 4), 2).astype(np.float32)  # unbatched (T, input_size)
    states = [rand((4, 5), s).astype(np.float32) for s in (3, 4)[:2 if mode == "lstm" else 1]]
    check_parity(torch1, ours, theirs, x, states, atol=2e-5)
    assert ours.weight_hh_l1_reverse.grad.dtype == np.float32


@pytest.mark.parametrize("mode", list(CELLS))
@pytest.mark.parametrize("batched", [True, False])
def test_cell_torch_parity(torch1, mode, batched):
    cls, kw = CELLS[mode]
    tcls = {nn.RNNCell: torch1.nn.RNNCell, nn.LSTMCell: torch1.nn.LSTMCell, nn.GRUCell: torch1.nn.GRUCell}[cls]
    torch1.manual_seed(2)
    theirs = tcls(4, 5, **kw).double()
    ours = cls(4, 5, dtype=np.float64, **kw)
    copy_from_torch(ours, theirs)
    lead = (3,) if batched else ()
    states = [rand(lead + (5,), s) for s in (3, 4)[:2 if mode == "lstm" else 1]]
    check_parity(torch1, ours, theirs, rand(lead + (4,), 2, 2.0), states)


def test_parameter_names_shapes_and_init():
    cn.manual_seed(0)
    m = nn.LSTM(10, 64, num_layers=2, bidirectional=True)
    shapes = {n: p.shape for n, p in m.named_parameters()}
    assert list(shapes)[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert shapes["weight_ih_l0_reverse"] == (256, 10) and shapes["weight_ih_l1"] == (256, 128)
    assert shapes["weight_hh_l1_reverse"] == (256, 64) and shapes["bias_hh_l1_reverse"] == (256,)
    assert len(shapes) == 16
    assert [n for n, _ in nn.GRU(3, 4, bias=False).named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    bound = 1 / math.sqrt(64)
    for p in m.parameters():
        assert p.dtype == np.float32 and np.abs(p.data).max() <= bound
        assert abs(p.data.std() - bound / math.sqrt(3)) < 0.2 * bound  # uniform(-b, b) has std b / sqrt(3)
    assert nn.GRUCell(3, 7).weight_hh.shape == (21, 7) and nn.RNNCell(3, 7).bias_ih.shape == (7,)


# ------------------------------------------------------------------------------------ behaviour
def test_each_layer_direction_is_one_graph_node():
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    counts = []
    for T in (2, 50):
        x = cn.Tensor(rand((T, 2, 3), 0).astype(np.float32), requires_grad=True)
        out, (h, c) = m(x)
        loss = out.sum() + h.sum() + c.sum()
        counts.append(len(toposort(loss)))  # the graph does not grow with the sequence length
        loss.backward()
        assert x.grad.shape == x.shape and np.isfinite(x.grad).all()
    assert counts[0] == counts[1] < 40


def test_dropout_only_between_layers_and_only_in_training():
    cn.manual_seed(0)
    m = nn.GRU(3, 8, num_layers=2, dropout=1.0)
    x1, x2 = rand((5, 2, 3), 1).astype(np.float32), rand((5, 2, 3), 2).astype(np.float32)
    # training: dropout 1 zeroes the first layer's output, so the second layer sees zeros whatever x is
    out1, _ = m(x1)
    out2, _ = m(x2)
    np.testing.assert_array_equal(out1.data, out2.data)
    assert (out1.data != 0).all()  # the last layer's output is not dropped
    m.eval()
    assert not np.allclose(m(x1)[0].data, m(x2)[0].data)
    m2 = nn.GRU(3, 8, num_layers=2, dropout=0.5)
    a, b = m2(x1)[0].data, m2(x1)[0].data
    assert not np.array_equal(a, b)  # a fresh mask per call in training
    m2.eval()
    np.testing.assert_array_equal(m2(x1)[0].data, m2(x1)[0].data)
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.LSTM(3, 4, dropout=0.3)


def test_shape_errors_name_the_expected_shape():
    m = nn.LSTM(4, 6, num_layers=2, bidirectional=True)
    x = np.zeros((5, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"input_size. Expected 4, got 7"):
        m(np.zeros((5, 3, 7), np.float32))
    with pytest.raises(ValueError, match=r"2 \(unbatched.*or 3 dimensions"):
        m(np.zeros((5, 3, 1, 4), np.float32))
    good = np.zeros((4, 3, 6), np.float32)
    with pytest.raises(ValueError, match=r"expected h0 of shape \(4, 3, 6\).*got \(2, 3, 6\)"):
        m(x, (np.zeros((2, 3, 6), np.float32), good))
    with pytest.raises(ValueError, match=r"expected c0 of shape \(4, 3, 6\).*got \(4, 3, 5\)"):
        m(x, (good, np.zeros((4, 3, 5), np.float32)))
    with pytest.raises(ValueError, match=r"expected h0 of shape \(4, 6\)"):
        m(np.zeros((5, 4), np.float32), (good, good))  # unbatched input with batched states
    with pytest.raises(TypeError, match=r"tuple \(h0, c0\)"):
        m(x, good)
    with pytest.raises(TypeError, match="not a tuple"):
        nn.GRU(4, 6)(x, (good, good))
    with pytest.raises(ValueError, match=r"expected h0 of shape \(1, 3, 6\)"):
        nn.GRU(4, 6, batch_first=True)(np.zeros((3, 5, 4), np.float32), np.zeros((1, 5, 6), np.float32))
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 4\)"):
        nn.GRUCell(4, 6)(np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match=r"expected hx of shape \(3, 6\)"):
        nn.RNNCell(4, 6)(np.zeros((3, 4), np.float32), np.zeros((6,), np.float32))
    with pytest.raises(ValueError, match=r"expected c of shape \(3, 6\)"):
        nn.LSTMCell(4, 6)(np.zeros((3, 4), np.float32), (np.zeros((3, 6)), np.zeros((2, 6))))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(4, 6, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        nn.GRU(4, 0)
    with pytest.raises(ValueError, match="dropout"):
        nn.LSTM(4, 6, num_layers=2, dropout=1.5)
    with pytest.raises(ValueError, match=r"expected h0 of shape \(3, 6\)"):
        cn.nn.functional.gru_layer(x[:, :, :4], np.zeros((2, 6)), np.zeros((18, 4)), np.zeros((18, 6)))


def test_float32_default_and_no_graph_without_grad():
    m = nn.GRU(3, 4)
    x = rand((5, 2, 3), 0)  # float64 data meets float32 weights: computed in float64, as Linear does
    out, h = m(x.astype(np.float32))
    assert out.dtype == np.float32 and h.dtype == np.float32 and out.shape == (5, 2, 4) and h.shape == (1, 2, 4)
    with cn.no_grad():
        out, h = m(x.astype(np.float32))
    assert not out.requires_grad and out.is_leaf


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
def test_stepwise_states_match_one_call_and_episode_start_masking_resets(cls):
    """What a recurrent policy does: per-env states (num_layers, n_envs, H), T = 1 steps, reset by
    multiplying with (1 - episode_start)."""
    cn.manual_seed(3)
    m = cls(3, 5, num_layers=2)
    x = rand((6, 4, 3), 1).astype(np.float32)
    lstm = cls is nn.LSTM
    zeros = np.zeros((2, 4, 5), np.float32)
    state = (cn.Tensor(zeros), cn.Tensor(zeros)) if lstm else cn.Tensor(zeros)
    full, _ = m(x)
    outs = []
    for t in range(6):
        out, state = m(x[t:t + 1], state)
        outs.append(out.data[0])
    np.testing.assert_allclose(np.stack(outs), full.data, atol=1e-6)
    # env 1 starts a new episode at the next step: its output equals a fresh start's, the others continue
    episode_start = np.array([0.0, 1.0, 0.0, 0.0], np.float32)
    mask = cn.Tensor((1.0 - episode_start).reshape(1, -1, 1))
    masked = tuple(s * mask for s in state) if lstm else state * mask
    out, _ = m(x[:1], masked)
    fresh, _ = m(x[:1])
    cont, _ = m(x[:1], state)
    np.testing.assert_allclose(out.data[0, 1], fresh.data[0, 1], atol=1e-6)
    np.testing.assert_allclose(out.data[0, [0, 2, 3]], cont.data[0, [0, 2, 3]], atol=1e-6)
    assert not np.allclose(out.data[0, 1], cont.data[0, 1])
