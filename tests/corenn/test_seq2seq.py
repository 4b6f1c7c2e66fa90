"""Seq2Seq with attention: attention gradients, teacher forcing is causal, and it learns to reverse sequences."""
import numpy as np
import pytest

import corenn as cn
import corenn.nn.functional as F
from corenn.models import BahdanauAttention, LuongAttention, Seq2Seq, token_accuracy

BOS = 0


def reverse_batch(rng, batch, length, vocab):
    """Source tokens in [1, vocab), target = the source reversed, decoder input = BOS + target[:-1]."""
    src = rng.integers(1, vocab, size=(batch, length))
    tgt = src[:, ::-1].copy()
    tgt_in = np.concatenate([np.full((batch, 1), BOS), tgt[:, :-1]], axis=1)
    return src, tgt_in, tgt


def train(model, steps, rng, batch, length, vocab, lr):
    opt = cn.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        src, tgt_in, tgt = reverse_batch(rng, batch, length, vocab)
        logits = model(src, tgt_in)
        loss = F.cross_entropy(logits.reshape(-1, vocab), tgt.reshape(-1))
        opt.zero_grad()
        loss.backward()
        cn.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return losses


def test_attention_gradcheck():
    rng = np.random.default_rng(0)
    cn.manual_seed(0)
    keys = cn.Tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    add = BahdanauAttention(3, 3, 5, dtype=np.float64)
    query = cn.Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert cn.gradcheck(add, [query, keys])
    for method in ("dot", "general"):
        mul = LuongAttention(3, method, dtype=np.float64)
        queries = cn.Tensor(rng.standard_normal((2, 5, 3)), requires_grad=True)
        assert cn.gradcheck(mul, [queries, keys])
    context, weights = add(query, keys)
    assert context.shape == (2, 3) and weights.shape == (2, 4)
    np.testing.assert_allclose(weights.data.sum(axis=-1), 1.0)


@pytest.mark.parametrize("cell,attention", [("gru", "bahdanau"), ("lstm", "dot"), ("lstm", "general")])
def test_teacher_forcing_is_causal(cell, attention):
    cn.manual_seed(0)
    model = Seq2Seq(7, 7, embedding_dim=4, hidden_size=6, cell=cell, attention=attention)
    src, tgt_in, _ = reverse_batch(np.random.default_rng(0), 3, 5, 7)
    logits = model(src, tgt_in)
    assert logits.shape == (3, 5, 7)
    changed = tgt_in.copy()
    changed[:, 3:] = (changed[:, 3:] % 6) + 1
    later = model(src, changed)
    np.testing.assert_allclose(logits.data[:, :3], later.data[:, :3], atol=1e-6)  # the future is unseen
    assert not np.allclose(logits.data[:, 3:], later.data[:, 3:])
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_bad_arguments():
    with pytest.raises(ValueError, match="cell must be"):
        Seq2Seq(5, 5, cell="rnn")
    with pytest.raises(ValueError, match="attention must be one of"):
        Seq2Seq(5, 5, attention="luong")
    with pytest.raises(ValueError, match="integer tokens"):
        Seq2Seq(5, 5)(np.zeros((2, 3), np.float32), np.zeros((2, 3), np.int64))
    with pytest.raises(ValueError, match="shape"):
        token_accuracy(np.zeros((2, 3)), np.zeros((3, 2)))


@pytest.mark.parametrize("cell,attention", [("gru", "general"), ("lstm", "bahdanau")])
def test_learns_to_reverse_sequences(cell, attention):
    cn.manual_seed(0)
    vocab, length = 10, 6
    model = Seq2Seq(vocab, vocab, embedding_dim=16, hidden_size=48, cell=cell, attention=attention)
    losses = train(model, 300, np.random.default_rng(0), 64, length, vocab, 1e-2)
    assert np.mean(losses[-20:]) < 0.05 * losses[0]
    src, _, tgt = reverse_batch(np.random.default_rng(123), 500, length, vocab)  # held-out sequences
    model.eval()
    acc = token_accuracy(model.greedy_decode(src, length, BOS), tgt)
    assert acc >= 0.98, acc
