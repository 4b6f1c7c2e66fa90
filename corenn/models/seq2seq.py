"""Sequence to sequence: a GRU or LSTM encoder-decoder with attention, trained with teacher forcing.

Shapes: src (B, S) and tgt_in (B, T) integer tokens (tgt_in = BOS followed by the target shifted
right) -> logits (B, T, tgt_vocab_size). The decoder starts from the encoder's final state.

Attention, with the decoder's query q over the encoder outputs k_1..k_S (B, S, H):
  * ``"bahdanau"`` (additive): score_s = v . tanh(W_q q + W_k k_s), q the decoder's previous
    state; the context c = sum_s softmax(score)_s k_s joins the next input token's embedding, and
    the classifier reads [decoder output; c]. The decoder steps one token at a time.
  * ``"dot"`` / ``"general"`` (Luong): score_s = q . k_s or q . W k_s with q the decoder's current
    output; h~ = tanh(W_c [c; q]) feeds the classifier. With teacher forcing the decoder runs over
    the whole target in one call (one fused node per layer).
"""
import numpy as np

from .. import nn, ops
from ..autograd import no_grad

ATTENTIONS = ("bahdanau", "dot", "general")


class BahdanauAttention(nn.Module):
    """Additive attention: query (B, Q), keys (B, S, K) -> context (B, K), weights (B, S)."""

    def __init__(self, query_size, key_size, attention_size, dtype=np.float32):
        super().__init__()
        self.query_proj = nn.Linear(query_size, attention_size, bias=False, dtype=dtype)
        self.key_proj = nn.Linear(key_size, attention_size, dtype=dtype)
        self.score = nn.Linear(attention_size, 1, bias=False, dtype=dtype)

    def project_keys(self, keys):
        """W_k k (B, S, A): computed once per source sequence and passed to every step."""
        return self.key_proj(keys)

    def forward(self, query, keys, projected_keys=None):
        if projected_keys is None:
            projected_keys = self.project_keys(keys)
        energy = ops.tanh(projected_keys + ops.unsqueeze(self.query_proj(query), 1))  # (B, S, A)
        weights = ops.softmax(ops.squeeze(self.score(energy), -1), axis=-1)  # (B, S)
        context = ops.squeeze(ops.matmul(ops.unsqueeze(weights, 1), keys), 1)  # (B, K)
        return context, weights


class LuongAttention(nn.Module):
    """Multiplicative attention: queries (B, T, H), keys (B, S, H) -> context (B, T, H), weights (B, T, S).
    ``method``: "dot" (q . k) or "general" (q . W k)."""

    def __init__(self, hidden_size, method="general", dtype=np.float32):
        super().__init__()
        if method not in ("dot", "general"):
            raise ValueError(f"LuongAttention: method must be 'dot' or 'general', got {method!r}")
        self.method = method
        if method == "general":
            self.proj = nn.Linear(hidden_size, hidden_size, bias=False, dtype=dtype)

    def forward(self, queries, keys):
        k = self.proj(keys) if self.method == "general" else keys
        weights = ops.softmax(ops.matmul(queries, ops.swapaxes(k, 1, 2)), axis=-1)
        return ops.matmul(weights, keys), weights


def _top_hidden(state):
    """The last layer's hidden state (B, H) of a GRU state h_n or an LSTM state (h_n, c_n)."""
    h = state[0] if isinstance(state, tuple) else state
    return h[h.shape[0] - 1]


class Seq2Seq(nn.Module):
    """Encoder-decoder with attention.

    forward(src (B, S), tgt_in (B, T)) -> logits (B, T, tgt_vocab_size) (teacher forcing);
    greedy_decode(src, max_len, bos_token) -> predicted tokens (B, max_len), an int ndarray.
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, embedding_dim=32, hidden_size=64, cell="gru",
                 attention="general", num_layers=1, dropout=0.0, dtype=np.float32):
        super().__init__()
        if cell not in ("gru", "lstm"):
            raise ValueError(f"Seq2Seq: cell must be 'gru' or 'lstm', got {cell!r}")
        if attention not in ATTENTIONS:
            raise ValueError(f"Seq2Seq: attention must be one of {ATTENTIONS}, got {attention!r}")
        self.cell, self.attention_type = cell, attention
        self.tgt_vocab_size = tgt_vocab_size
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.src_embedding = nn.Embedding(src_vocab_size, embedding_dim, dtype=dtype)
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, embedding_dim, dtype=dtype)
        self.encoder = rnn(embedding_dim, hidden_size, num_layers, batch_first=True, dropout=dropout, dtype=dtype)
        if attention == "bahdanau":
            self.decoder = rnn(embedding_dim + hidden_size, hidden_size, num_layers, batch_first=True,
                               dropout=dropout, dtype=dtype)
            self.attention = BahdanauAttention(hidden_size, hidden_size, hidden_size, dtype=dtype)
            self.out = nn.Linear(2 * hidden_size, tgt_vocab_size, dtype=dtype)
        else:
            self.decoder = rnn(embedding_dim, hidden_size, num_layers, batch_first=True, dropout=dropout,
                               dtype=dtype)
            self.attention = LuongAttention(hidden_size, attention, dtype=dtype)
            self.combine = nn.Linear(2 * hidden_size, hidden_size, dtype=dtype)
            self.out = nn.Linear(hidden_size, tgt_vocab_size, dtype=dtype)

    @staticmethod
    def _tokens(tokens, name):
        t = np.asarray(getattr(tokens, "data", tokens))
        if t.ndim != 2 or t.dtype.kind not in "iu":
            raise ValueError(f"Seq2Seq: {name} must be integer tokens of shape (batch, length), "
                             f"got dtype {t.dtype} and shape {t.shape}")
        return t

    def encode(self, src):
        """src (B, S) -> (encoder outputs (B, S, H), final state), plus the projected keys (Bahdanau)."""
        enc_out, state = self.encoder(self.src_embedding(self._tokens(src, "src")))
        keys = self.attention.project_keys(enc_out) if self.attention_type == "bahdanau" else None
        return enc_out, state, keys

    def decode(self, tgt_in, state, enc_out, keys=None):
        """Teacher-forced decoding of tgt_in (B, T) -> (logits (B, T, V), final decoder state)."""
        emb = self.tgt_embedding(tgt_in)  # (B, T, E)
        if self.attention_type != "bahdanau":
            dec_out, state = self.decoder(emb, state)
            context, _ = self.attention(dec_out, enc_out)
            combined = ops.tanh(self.combine(ops.concatenate([context, dec_out], axis=-1)))
            return self.out(combined), state
        logits = []
        for t in range(emb.shape[1]):
            context, _ = self.attention(_top_hidden(state), enc_out, keys)  # (B, H)
            step_in = ops.unsqueeze(ops.concatenate([emb[:, t], context], axis=-1), 1)
            dec_out, state = self.decoder(step_in, state)
            logits.append(self.out(ops.concatenate([ops.squeeze(dec_out, 1), context], axis=-1)))
        return ops.stack(logits, axis=1), state

    def forward(self, src, tgt_in):
        tgt_in = self._tokens(tgt_in, "tgt_in")
        enc_out, state, keys = self.encode(src)
        logits, _ = self.decode(tgt_in, state, enc_out, keys)
        return logits

    def greedy_decode(self, src, max_len, bos_token=0):
        """Feed back the most likely token at each step: src (B, S) -> tokens (B, max_len) (int64).
        Runs without a graph; call ``model.eval()`` first when the model uses dropout."""
        src = self._tokens(src, "src")
        with no_grad():
            enc_out, state, keys = self.encode(src)
            token = np.full((src.shape[0], 1), bos_token, dtype=np.int64)
            result = []
            for _ in range(max_len):
                logits, state = self.decode(token, state, enc_out, keys)
                token = logits.data.argmax(axis=-1)
                result.append(token[:, 0])
        return np.stack(result, axis=1)


def token_accuracy(predicted, target):
    """Fraction of positions where predicted tokens (B, T) equal the target (B, T)."""
    predicted, target = np.asarray(getattr(predicted, "data", predicted)), np.asarray(target)
    if predicted.shape != target.shape:
        raise ValueError(f"token_accuracy: predicted shape {predicted.shape} != target shape {target.shape}")
    return float((predicted == target).mean())

