"""Fused scaled dot-product attention and MultiheadAttention: gradients, masks, and PyTorch parity."""
import numpy as np
import pytest

import corenn as cn
import corenn.nn.functional as F
from corenn import nn
from corenn.ops import merge_heads, split_heads


def rand(*shape, seed=0, requires_grad=True):
    return cn.Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=requires_grad)


def reference_attention(q, k, v, mask=None, is_causal=False, scale=None):
    """Plain NumPy softmax(q k^T * scale + mask) v (float64)."""
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if is_causal:
        mask = np.tril(np.ones(s.shape[-2:], dtype=bool))
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    s = s - s.max(-1, keepdims=True)
    p = np.exp(s)
    return (p / p.sum(-1, keepdims=True)) @ v


@pytest.fixture
def qkv():
    return rand(2, 3, 4, 5, seed=0), rand(2, 3, 6, 5, seed=1), rand(2, 3, 6, 3, seed=2)


def test_sdpa_matches_reference_for_every_mask_kind(qkv):
    q, k, v = qkv
    rng = np.random.default_rng(3)
    bool_mask = rng.random((4, 6)) > 0.3
    bool_mask[:, 0] = True
    float_mask = rng.standard_normal((2, 1, 4, 6))
    for kwargs, mask in [({}, None), ({"attn_mask": bool_mask}, bool_mask), ({"attn_mask": float_mask}, float_mask),
                         ({"scale": 0.3}, None)]:
        out = F.scaled_dot_product_attention(q, k, v, **kwargs)
        ref = reference_attention(q.data, k.data, v.data, mask, scale=kwargs.get("scale"))
        np.testing.assert_allclose(out.data, ref, atol=1e-12)
    q2, k2 = rand(2, 3, 6, 5, seed=4), rand(2, 3, 6, 5, seed=5)
    out = F.scaled_dot_product_attention(q2, k2, v, is_causal=True)
    np.testing.assert_allclose(out.data, reference_attention(q2.data, k2.data, v.data, is_causal=True), atol=1e-12)


@pytest.mark.parametrize("kind", ["none", "bool", "float", "causal", "broadcast_batch"])
def test_sdpa_gradcheck(kind):
    rng = np.random.default_rng(0)
    q, k, v = rand(2, 2, 3, 4, seed=1), rand(2, 2, 5, 4, seed=2), rand(2, 2, 5, 3, seed=3)
    if kind == "none":
        assert cn.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c), [q, k, v])
    elif kind == "bool":
        mask = rng.random((2, 1, 3, 5)) > 0.4
        mask[..., 0] = True
        assert cn.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask), [q, k, v])
    elif kind == "float":  # the additive mask gets its gradient too
        m = rand(3, 5, seed=4)
        assert cn.gradcheck(lambda a, b, c, d: F.scaled_dot_product_attention(a, b, c, attn_mask=d), [q, k, v, m])
    elif kind == "causal":
        k, v = rand(2, 2, 3, 4, seed=5), rand(2, 2, 3, 3, seed=6)
        assert cn.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), [q, k, v])
    else:  # key and value shared by the batch: their gradients are summed back
        k, v = rand(1, 5, 4, seed=7), rand(1, 5, 3, seed=8)
        assert cn.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, scale=0.7), [q, k, v])


def test_sdpa_fully_masked_row_gives_zeros_and_no_gradient(qkv):
    q, k, v = qkv
    mask = np.ones((4, 6), dtype=bool)
    mask[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert np.all(np.isfinite(out.data))
    np.testing.assert_array_equal(out.data[:, :, 1], 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(q.grad[:, :, 1], 0.0)
    assert np.all(np.isfinite(k.grad)) and np.all(np.isfinite(v.grad))
    additive = np.zeros((4, 6))
    additive[2] = -np.inf
    out2 = F.scaled_dot_product_attention(q, k, v, attn_mask=additive)
    np.testing.assert_array_equal(out2.data[:, :, 2], 0.0)


def test_sdpa_dropout_scales_kept_probabilities(qkv):
    q, k, v = qkv
    cn.manual_seed(5)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    cn.manual_seed(5)
    keep = cn.creation.generator().random((2, 3, 4, 6)) >= 0.4
    s = q.data @ np.swapaxes(k.data, -1, -2) / np.sqrt(5)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    np.testing.assert_allclose(out.data, (p * keep / 0.6) @ v.data, atol=1e-12)
    g = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(g)
    np.testing.assert_allclose(v.grad, np.swapaxes(p * keep / 0.6, -1, -2) @ g, atol=1e-12)


def test_sdpa_float32_stays_float32_and_bad_input_errors(qkv):
    q, k, v = (cn.Tensor(t.data.astype(np.float32)) for t in qkv)
    assert F.scaled_dot_product_attention(q, k, v, is_causal=True).dtype == np.float32
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((4, 6), bool), is_causal=True)
    with pytest.raises(TypeError, match="attn_mask must be boolean"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((4, 6), np.int64))
    with pytest.raises(ValueError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((5, 6), bool))
    with pytest.raises(ValueError, match="features"):
        F.scaled_dot_product_attention(q, cn.Tensor(np.zeros((2, 3, 6, 4), np.float32)), v)
    with pytest.raises(TypeError, match="share a dtype"):
        F.scaled_dot_product_attention(q, k, cn.Tensor(v.data.astype(np.float64)))


def test_split_and_merge_heads_gradients():
    x = rand(2, 3, 12, seed=0)
    assert cn.gradcheck(lambda t: split_heads(t, 2, parts=3), [x])
    q, k, v = split_heads(x, 2, parts=3)
    assert q.shape == (2, 2, 3, 2)
    np.testing.assert_array_equal(k.data[:, 1], x.data[:, :, 6:8])  # [q | k | v], head 1 of k
    np.testing.assert_array_equal(merge_heads(split_heads(x, 4)).data, x.data)
    assert cn.gradcheck(lambda t: merge_heads(t), [rand(2, 3, 4, 5, seed=1)])


# ---- PyTorch parity ---------------------------------------------------------------------------------
@pytest.fixture
def torch():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


def both(torch, *shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape)
    return cn.Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


@pytest.mark.parametrize("kind", ["none", "bool", "float", "causal", "fully_masked"])
def test_sdpa_matches_torch(torch, kind):
    (q, tq), (k, tk), (v, tv) = both(torch, 2, 3, 4, 8, seed=0), both(torch, 2, 3, 4, 8, seed=1), \
        both(torch, 2, 3, 4, 6, seed=2)
    rng = np.random.default_rng(0)
    kw, tkw, extra = {}, {}, []
    if kind == "bool":
        m = rng.random((2, 1, 4, 4)) > 0.5
        m[..., 0] = True
        kw, tkw = {"attn_mask": m}, {"attn_mask": torch.tensor(m)}
    elif kind == "float":
        m, tm = both(torch, 4, 4, seed=3)
        kw, tkw, extra = {"attn_mask": m}, {"attn_mask": tm}, [(m, tm)]
    elif kind == "causal":
        kw = tkw = {"is_causal": True}
    elif kind == "fully_masked":
        m = np.ones((4, 4), bool)
        m[2] = False
        kw, tkw = {"attn_mask": m}, {"attn_mask": torch.tensor(m)}
    out = F.scaled_dot_product_attention(q, k, v, **kw)
    tout = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, **tkw)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), atol=1e-10)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    for a, b in [(q, tq), (k, tk), (v, tv)] + extra:
        np.testing.assert_allclose(a.grad, b.grad.numpy(), atol=1e-10)


def to_double(module):
    for p in module.parameters():
        p.data = p.data.astype(np.float64)
    return module


def copy_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("weights", ["averaged", "per_head", "none"])
def test_multihead_attention_matches_torch(torch, batch_first, weights):
    e, h, n, L, S = 8, 2, 3, 4, 5
    tm = torch.nn.MultiheadAttention(e, h, batch_first=batch_first).double().eval()
    m = to_double(nn.MultiheadAttention(e, h, batch_first=batch_first)).eval()
    assert set(m.state_dict()) == set(tm.state_dict())
    copy_from_torch(m, tm)
    qshape, kshape = ((n, L, e), (n, S, e)) if batch_first else ((L, n, e), (S, n, e))
    (x, tx), (mem, tmem) = both(torch, *qshape, seed=1), both(torch, *kshape, seed=2)
    kpm = np.zeros((n, S))  # float masks are added to the scores
    kpm[0, -2:] = -np.inf
    am = np.random.default_rng(0).standard_normal((L, S))
    kwargs = dict(need_weights=weights != "none", average_attn_weights=weights == "averaged")
    out, w = m(x, mem, mem, key_padding_mask=kpm, attn_mask=am, **kwargs)
    tout, tw = tm(tx, tmem, tmem, key_padding_mask=torch.tensor(kpm), attn_mask=torch.tensor(am), **kwargs)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), atol=1e-10)
    if weights == "none":
        assert w is None and tw is None
    else:
        np.testing.assert_allclose(w.data, tw.detach().numpy(), atol=1e-10)
    g = np.random.default_rng(3).standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(mem.grad, tmem.grad.numpy(), atol=1e-10)
    theirs = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad, theirs[name].grad.numpy(), atol=1e-10, err_msg=name)


@pytest.mark.parametrize("case", ["self_bool_masks", "self_3d_float_mask", "kdim_vdim", "unbatched"])
def test_multihead_attention_more_cases_match_torch(torch, case):
    e, h, n, L = 8, 4, 2, 5
    kdim = vdim = None
    if case == "kdim_vdim":
        kdim, vdim = 6, 3
    tm = torch.nn.MultiheadAttention(e, h, kdim=kdim, vdim=vdim, batch_first=True).double().eval()
    m = to_double(nn.MultiheadAttention(e, h, kdim=kdim, vdim=vdim, batch_first=True)).eval()
    copy_from_torch(m, tm)
    rng = np.random.default_rng(0)
    (x, tx) = both(torch, n, L, e, seed=1)
    args, targs, kwargs, tkwargs = (x, x, x), (tx, tx, tx), {}, {}
    if case == "self_bool_masks":
        am = np.triu(np.ones((L, L), bool), 1)
        kpm = np.zeros((n, L), bool)
        kpm[1, -1] = True
        kwargs = dict(attn_mask=am, key_padding_mask=kpm, need_weights=False)
        tkwargs = dict(attn_mask=torch.tensor(am), key_padding_mask=torch.tensor(kpm), need_weights=False)
    elif case == "self_3d_float_mask":
        am = rng.standard_normal((n * h, L, L))
        kwargs, tkwargs = dict(attn_mask=am), dict(attn_mask=torch.tensor(am))
    elif case == "kdim_vdim":
        (kx, tkx), (vx, tvx) = both(torch, n, 7, 6, seed=2), both(torch, n, 7, 3, seed=3)
        args, targs = (x, kx, vx), (tx, tkx, tvx)
        assert m.in_proj_weight is None and m.k_proj_weight.shape == (8, 6)
    else:
        (x, tx) = both(torch, L, e, seed=4)
        args, targs = (x, x, x), (tx, tx, tx)
    out, w = m(*args, **kwargs)
    tout, tw = tm(*targs, **tkwargs)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), atol=1e-10)
    if tw is not None:
        np.testing.assert_allclose(w.data, tw.detach().numpy(), atol=1e-10)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), atol=1e-10)
    theirs = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad, theirs[name].grad.numpy(), atol=1e-10, err_msg=name)


def test_multihead_attention_is_causal_and_errors():
    m = to_double(nn.MultiheadAttention(8, 2, batch_first=True))
    x = rand(2, 5, 8, seed=0)
    mask = np.triu(np.ones((5, 5), bool), 1)
    a = m(x, x, x, attn_mask=mask, need_weights=False)[0]
    b = m(x, x, x, is_causal=True, need_weights=False)[0]
    c, w = m(x, x, x, is_causal=True)
    np.testing.assert_allclose(a.data, b.data, atol=1e-12)
    np.testing.assert_allclose(a.data, c.data, atol=1e-12)
    np.testing.assert_array_equal(np.triu(w.data[0], 1), 0.0)
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(NotImplementedError):
        nn.MultiheadAttention(8, 2, add_bias_kv=True)
    with pytest.raises(ValueError, match="attn_mask has shape"):
        m(x, x, x, attn_mask=np.zeros((4, 5), bool))
    with pytest.raises(ValueError, match="expected 8"):
        m(rand(2, 5, 6), x, x)
