"""Transformer encoder/decoder layers and stacks against torch.nn (eval mode, same weights, float64)."""
import numpy as np
import pytest

import corenn as cn
from corenn import nn


@pytest.fixture
def torch():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


def to_double(module):
    for p in module.parameters():
        p.data = p.data.astype(np.float64)
    return module


def both(torch, *shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape)
    return cn.Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def paired(torch, ours, theirs):
    """Give ``ours`` the weights of ``theirs``, randomised (biases and LayerNorm weights included)."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.3)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    to_double(ours).load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    ours.eval()
    theirs.eval()


def check_grads(ours, theirs, pairs, out, tout, atol=1e-9):
    """Outputs and every gradient equal; GELU paths within 1e-6 (corenn's erf is a 1.2e-7 rational fit)."""
    np.testing.assert_allclose(out.data, tout.detach().numpy(), atol=atol)
    g = np.random.default_rng(9).standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch_tensor_like(tout, g))
    for a, b in pairs:
        np.testing.assert_allclose(a.grad, b.grad.numpy(), atol=atol)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, tp[name].grad.numpy(), atol=atol, err_msg=name)


def torch_tensor_like(t, a):
    import torch
    return torch.tensor(a, dtype=t.dtype)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_torch(torch, norm_first, activation):
    d, h, ff, n, s = 8, 2, 16, 3, 5
    kw = dict(dim_feedforward=ff, dropout=0.1, activation=activation, norm_first=norm_first, batch_first=True)
    ours, theirs = nn.TransformerEncoderLayer(d, h, **kw), torch.nn.TransformerEncoderLayer(d, h, **kw).double()
    paired(torch, ours, theirs)
    x, tx = both(torch, n, s, d, seed=1)
    mask = np.triu(np.ones((s, s), bool), 1)  # True = masked out, as torch
    kpm = np.zeros((n, s), bool)
    kpm[1, -2:] = True
    out = ours(x, src_mask=mask, src_key_padding_mask=kpm)
    tout = theirs(tx, src_mask=torch.tensor(mask), src_key_padding_mask=torch.tensor(kpm))
    check_grads(ours, theirs, [(x, tx)], out, tout, atol=1e-6 if activation == "gelu" else 1e-9)


def test_encoder_stack_sequence_first_matches_torch(torch):
    d, h, n, s = 8, 4, 2, 6
    layer = torch.nn.TransformerEncoderLayer(d, h, dim_feedforward=12, activation="gelu").double()
    theirs = torch.nn.TransformerEncoder(layer, 2, norm=torch.nn.LayerNorm(d).double(), enable_nested_tensor=False)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(d, h, dim_feedforward=12, activation="gelu"), 2,
                                 norm=nn.LayerNorm(d))
    paired(torch, ours, theirs)
    assert ours.layers[0].linear1.weight is not ours.layers[1].linear1.weight
    x, tx = both(torch, s, n, d, seed=2)  # (S, N, E)
    out = ours(x, is_causal=True)
    tout = theirs(tx, mask=torch.nn.Transformer.generate_square_subsequent_mask(s, dtype=torch.float64),
                  is_causal=True)
    check_grads(ours, theirs, [(x, tx)], out, tout, atol=1e-6)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch(torch, norm_first):
    d, h, n, t, s = 8, 2, 2, 4, 6
    kw = dict(dim_feedforward=16, dropout=0.1, norm_first=norm_first, batch_first=True, activation="gelu")
    ours, theirs = nn.TransformerDecoderLayer(d, h, **kw), torch.nn.TransformerDecoderLayer(d, h, **kw).double()
    paired(torch, ours, theirs)
    (y, ty), (mem, tmem) = both(torch, n, t, d, seed=3), both(torch, n, s, d, seed=4)
    causal = np.triu(np.ones((t, t), bool), 1)
    mkpm = np.zeros((n, s), bool)
    mkpm[0, -3:] = True
    out = ours(y, mem, tgt_mask=causal, memory_key_padding_mask=mkpm)
    tout = theirs(ty, tmem, tgt_mask=torch.tensor(causal), memory_key_padding_mask=torch.tensor(mkpm))
    check_grads(ours, theirs, [(y, ty), (mem, tmem)], out, tout, atol=1e-6)


def test_decoder_stack_matches_torch(torch):
    d, h = 8, 2
    theirs = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(d, h, dim_feedforward=8), 2).double()
    ours = nn.TransformerDecoder(nn.TransformerDecoderLayer(d, h, dim_feedforward=8), 2)
    paired(torch, ours, theirs)
    (y, ty), (mem, tmem) = both(torch, 3, 2, d, seed=5), both(torch, 4, 2, d, seed=6)
    out = ours(y, mem, tgt_is_causal=True)
    tout = theirs(ty, tmem, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64),
                  tgt_is_causal=True)
    check_grads(ours, theirs, [(y, ty), (mem, tmem)], out, tout)


def test_layers_train_mode_dropout_and_bias_free():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.5, batch_first=True, bias=False)
    assert all("bias" not in name for name, _ in layer.named_parameters())
    x = cn.Tensor(np.random.default_rng(0).standard_normal((2, 3, 8)).astype(np.float32))
    cn.manual_seed(0)
    a = layer(x).data
    cn.manual_seed(1)
    b = layer(x).data
    assert not np.allclose(a, b)  # dropout is on in training
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, layer(x).data)
    with pytest.raises(ValueError, match="activation"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")
    with pytest.raises(ValueError, match="num_layers"):
        nn.TransformerEncoder(layer, 0)
