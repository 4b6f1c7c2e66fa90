"""Sinusoidal and learned positional encodings, and rotary embeddings against their definition."""
import math

import numpy as np
import pytest

import corenn as cn
from corenn import nn
from corenn.nn.positional import rotary_cos_sin, sinusoidal_encoding


def test_sinusoidal_encoding_is_the_papers_formula():
    pe = sinusoidal_encoding(7, 6, dtype=np.float64)
    for pos in range(7):
        for i in range(3):
            angle = pos / 10000 ** (2 * i / 6)
            assert pe[pos, 2 * i] == pytest.approx(math.sin(angle), abs=1e-12)
            assert pe[pos, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-12)
    assert sinusoidal_encoding(3, 5).shape == (3, 5)  # odd width


def test_sinusoidal_module_adds_positions_in_both_layouts():
    enc = nn.SinusoidalPositionalEncoding(4, max_len=10)
    x = cn.Tensor(np.zeros((2, 3, 4), np.float32))
    np.testing.assert_allclose(enc(x).data[1], enc.pe[:3], atol=0)
    np.testing.assert_allclose(enc(x, offset=5).data[0], enc.pe[5:8], atol=0)
    seq_first = nn.SinusoidalPositionalEncoding(4, max_len=10, batch_first=False)
    np.testing.assert_allclose(seq_first(cn.Tensor(np.zeros((3, 2, 4)))).data[:, 1], enc.pe[:3], atol=1e-7)
    assert enc.state_dict() == {}
    with pytest.raises(ValueError, match="max_len"):
        enc(x, offset=8)


def test_learned_positional_embedding_gradient_goes_to_used_positions():
    emb = nn.LearnedPositionalEmbedding(6, 4)
    x = cn.Tensor(np.ones((2, 3, 4), np.float32), requires_grad=True)
    out = emb(x, offset=2)
    np.testing.assert_allclose(out.data, np.broadcast_to(1.0 + emb.weight.data[2:5], (2, 3, 4)))
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad[2:5], 2.0)
    np.testing.assert_array_equal(emb.weight.grad[[0, 1, 5]], 0.0)
    assert list(emb.state_dict()) == ["weight"]


def rope_by_definition(x, positions, base=10000.0):
    """Rotate each pair (x_i, x_{i+d/2}) by position * base^(-2i/d), one pair at a time."""
    d = x.shape[-1]
    out = np.array(x, dtype=np.float64)
    for t, m in enumerate(positions):
        for i in range(d // 2):
            theta = m * base ** (-2 * i / d)
            a, b = x[..., t, i], x[..., t, i + d // 2]
            out[..., t, i] = a * math.cos(theta) - b * math.sin(theta)
            out[..., t, i + d // 2] = a * math.sin(theta) + b * math.cos(theta)
    return out


def test_rope_equals_its_definition():
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((2, 3, 5, 8)), rng.standard_normal((2, 3, 5, 8))
    cos, sin = rotary_cos_sin(np.arange(5), 8, dtype=np.float64)
    qr, kr = nn.apply_rotary_pos_emb(cn.Tensor(q), cn.Tensor(k), cos, sin)
    np.testing.assert_allclose(qr.data, rope_by_definition(q, range(5)), atol=1e-12)
    np.testing.assert_allclose(kr.data, rope_by_definition(k, range(5)), atol=1e-12)
    rope = nn.RotaryEmbedding(8, max_position_embeddings=64, base=500.0)
    np.testing.assert_allclose(rope(cn.Tensor(q), offset=11).data, rope_by_definition(q, range(11, 16), 500.0),
                               atol=1e-12)


def test_rope_scores_depend_only_on_relative_position():
    rng = np.random.default_rng(1)
    q, k = rng.standard_normal(16), rng.standard_normal(16)
    rope = nn.RotaryEmbedding(16, max_position_embeddings=200)

    def score(m, n):
        qm = rope(cn.Tensor(q[None]), offset=m).data[0]
        kn = rope(cn.Tensor(k[None]), offset=n).data[0]
        return float(qm @ kn)

    for m, n in [(3, 1), (10, 4), (0, 7)]:
        for shift in (1, 25, 150):
            assert score(m + shift, n + shift) == pytest.approx(score(m, n), rel=1e-9, abs=1e-9)
    assert abs(score(5, 0) - score(0, 5)) > 1e-3  # but not only on the distance
    assert score(0, 0) == pytest.approx(float(q @ k))


def test_rope_gradcheck_and_partial_rotation():
    rng = np.random.default_rng(2)
    cos, sin = rotary_cos_sin(np.arange(3), 4, dtype=np.float64)
    x = cn.Tensor(rng.standard_normal((2, 3, 6)), requires_grad=True)
    assert cn.gradcheck(lambda t: nn.apply_rotary_pos_emb(t, t, cos, sin)[0], [x])
    out = nn.apply_rotary_pos_emb(x, x, cos, sin)[0]
    np.testing.assert_array_equal(out.data[..., 4:], x.data[..., 4:])  # features past the rotary dim pass
    np.testing.assert_allclose(out.data[..., :4], rope_by_definition(x.data[..., :4], range(3)), atol=1e-12)
    with pytest.raises(ValueError, match="even dim"):
        nn.RotaryEmbedding(5)
    with pytest.raises(ValueError, match="max_position_embeddings"):
        nn.RotaryEmbedding(4, max_position_embeddings=4)(x, offset=2)
