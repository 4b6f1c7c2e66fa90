"""GPT: a decoder-only transformer shaped like nanoGPT (Karpathy), with a key/value cache for generation.

    idx (B, T) int -> token embedding + learned position embedding -> dropout
        -> n_layer x [x + attn(ln_1(x)); x + mlp(ln_2(x))]  (pre-LN blocks, causal self-attention)
        -> ln_f -> lm_head (weight tied to the token embedding) -> logits (B, T, vocab_size)

Attention is the fused ``scaled_dot_product_attention`` node; the MLP is Linear(C, 4C) -> GELU ->
Linear(4C, C). Initialisation as GPT-2: N(0, 0.02) for weights and embeddings, N(0, 0.02/sqrt(2 n_layer))
for the residual projections, zero biases. Parameter names follow nanoGPT (``transformer.h.0.attn.c_attn.weight``).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .. import nn, ops, optim
from ..autograd import is_grad_enabled, no_grad
from ..ops.attention import merge_heads, scaled_dot_product_attention, split_heads
from ..tensor import Tensor
from ..utils.math_utils import softmax

__all__ = ["GPTConfig", "GPT", "KVCache"]


@dataclass
class GPTConfig:
    """Model size: context ``block_size``, ``vocab_size``, ``n_layer`` blocks of ``n_head`` heads,
    width ``n_embd``, ``dropout`` (embeddings, attention probabilities, residual branches), ``bias``
    in the Linear layers and LayerNorms."""

    block_size: int = 256
    vocab_size: int = 65
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True

    def __post_init__(self):
        for name in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"GPTConfig.{name} must be a positive int, got {v!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig: n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"GPTConfig.dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> GPTConfig:
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"GPTConfig: unknown fields {sorted(unknown)}")
        return cls(**d)


class KVCache:
    """Keys and values of the positions seen so far, for every layer: arrays (n_layer, B, H, max_len, D)
    filled up to ``length``. Inference only (no gradients flow into cached entries)."""

    def __init__(self, n_layer, batch_size, n_head, head_dim, max_len, dtype=np.float32):
        self.k = np.zeros((n_layer, batch_size, n_head, max_len, head_dim), dtype=dtype)
        self.v = np.zeros_like(self.k)
        self.length, self.max_len, self.batch_size = 0, max_len, batch_size

    def update(self, layer, k, v):
        """Store k, v (B, H, T, D) after the cached positions; return all keys and values so far."""
        t0, t1 = self.length, self.length + k.shape[-2]
        self.k[layer, :, :, t0:t1] = k
        self.v[layer, :, :, t0:t1] = v
        return self.k[layer, :, :, :t1], self.v[layer, :, :, :t1]


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        c = config.n_embd
        self.c_attn = nn.Linear(c, 3 * c, bias=config.bias)
        self.c_proj = nn.Linear(c, c, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head, self.dropout = config.n_head, config.dropout

    def forward(self, x, kv_cache=None, layer=0):
        q, k, v = split_heads(self.c_attn(x), self.n_head, parts=3)  # (B, H, T, D) each
        dropout_p = self.dropout if self.training else 0.0
        if kv_cache is None:
            y = scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)
        else:
            past, t = kv_cache.length, q.shape[-2]
            keys, values = kv_cache.update(layer, k.data, v.data)
            mask = None if t == 1 else np.tril(np.ones((t, past + t), dtype=bool), k=past)  # query i sees <= past+i
            y = scaled_dot_product_attention(q, Tensor(keys), Tensor(values), attn_mask=mask, dropout_p=dropout_p)
        return self.resid_dropout(self.c_proj(merge_heads(y)))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, kv_cache=None, layer=0):
        x = x + self.attn(self.ln_1(x), kv_cache, layer)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """Decoder-only transformer; ``forward(idx, targets=None, kv_cache=None) -> (logits, loss)``.

    With ``targets`` (B, T) the logits cover every position (B, T, vocab) and ``loss`` is the mean
    cross-entropy (targets -1 are ignored); without, only the last position's logits (B, 1, vocab)
    are computed and ``loss`` is None. ``kv_cache`` (from ``new_cache``, inference only) holds the
    keys and values of earlier positions: idx is then the next tokens, at positions
    ``kv_cache.length ...``.
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList(Block(config) for _ in range(config.n_layer)),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer["wte"].weight = self.lm_head.weight  # weight tying
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * config.n_layer))
            elif p.ndim == 2:
                nn.init.normal_(p, 0.0, 0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def num_parameters(self, non_embedding=True) -> int:
        """Parameter count; without the position embeddings by default (the token embedding counts,
        as it is the tied output layer too)."""
        n = sum(p.numel() for p in self.parameters())
        return n - self.transformer["wpe"].weight.numel() if non_embedding else n

    def new_cache(self, batch_size, dtype=None) -> KVCache:
        """An empty KVCache for ``batch_size`` sequences (the weights' dtype by default)."""
        c = self.config
        dtype = self.lm_head.weight.dtype if dtype is None else dtype
        return KVCache(c.n_layer, batch_size, c.n_head, c.n_embd // c.n_head, c.block_size, dtype)

    def forward(self, idx, targets=None, kv_cache=None):
        idx = np.asarray(idx.data if isinstance(idx, Tensor) else idx)
        if idx.ndim != 2 or idx.dtype.kind not in "iu":
            raise ValueError(f"GPT expects integer token ids of shape (B, T), got {idx.dtype} {idx.shape}")
        b, t = idx.shape
        offset = 0
        if kv_cache is not None:
            if is_grad_enabled():
                raise RuntimeError("GPT: kv_cache is for inference; call the model under corenn.no_grad()")
            if kv_cache.batch_size != b:
                raise ValueError(f"GPT: kv_cache holds {kv_cache.batch_size} sequences, idx has {b}")
            offset = kv_cache.length
        if offset + t > self.config.block_size:
            raise ValueError(f"GPT: positions up to {offset + t} exceed block_size={self.config.block_size}")
        tr = self.transformer
        pos = ops.getitem(tr["wpe"].weight, slice(offset, offset + t))
        x = tr["drop"](tr["wte"](idx) + pos)
        for i, block in enumerate(tr["h"]):
            x = block(x, kv_cache, i)
        x = tr["ln_f"](x)
        if kv_cache is not None:
            kv_cache.length += t
        if targets is None:
            return self.lm_head(x[:, -1:, :]), None
        targets = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
        if targets.shape != (b, t):
            raise ValueError(f"GPT: targets must have the shape of idx {(b, t)}, got {targets.shape}")
        logits = self.lm_head(x)
        loss = ops.cross_entropy(logits.reshape(b * t, -1), targets.reshape(-1), ignore_index=-1)
        return logits, loss

    def configure_optimizers(self, weight_decay=0.1, learning_rate=1e-3, betas=(0.9, 0.95), eps=1e-8):
        """AdamW with weight decay on the matrices (Linear weights, embeddings) and none on biases and
        LayerNorm weights, as nanoGPT does."""
        decay = [p for p in self.parameters() if p.ndim >= 2]
        no_decay = [p for p in self.parameters() if p.ndim < 2]
        groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        return optim.AdamW([g for g in groups if g["params"]], lr=learning_rate, betas=betas, eps=eps)

    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, rng=None, use_cache=True):
        """Append ``max_new_tokens`` sampled tokens to idx (B, T) and return the ids (B, T + max_new_tokens).

        Samples from softmax(logits / temperature) (greedy when temperature is 0), restricted to the
        ``top_k`` most likely tokens if given; ``rng`` is a seed or a numpy Generator. Runs in eval
        mode without gradients. With ``use_cache`` each step feeds only the newest token through a
        key/value cache; once the sequence is longer than block_size the context is cropped to the last
        block_size tokens and recomputed every step (positions shift), exactly as without the cache.
        """
        if temperature < 0:
            raise ValueError(f"generate: temperature must be >= 0, got {temperature}")
        if top_k is not None and top_k < 1:
            raise ValueError(f"generate: top_k must be a positive int or None, got {top_k}")
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        idx = np.array(idx.data if isinstance(idx, Tensor) else idx, dtype=np.int64)
        if idx.ndim == 1:
            idx = idx[None]
        was_training = self.training
        self.eval()
        block, cache = self.config.block_size, None
        try:
            with no_grad():
                for _ in range(max_new_tokens):
                    n = idx.shape[1]
                    if use_cache and n <= block:
                        if cache is None:
                            cache = self.new_cache(idx.shape[0])
                            logits, _ = self(idx, kv_cache=cache)
                        else:
                            logits, _ = self(idx[:, -1:], kv_cache=cache)
                    else:
                        logits, _ = self(idx[:, -block:])
                    nxt = self._sample(logits.data[:, -1, :], temperature, top_k, rng)
                    idx = np.concatenate([idx, nxt[:, None]], axis=1)
        finally:
            self.train(was_training)
        return idx

    @staticmethod
    def _sample(logits, temperature, top_k, rng):
        logits = logits.astype(np.float64)
        if temperature == 0:
            return logits.argmax(axis=-1)
        logits = logits / temperature
        if top_k is not None and top_k < logits.shape[-1]:
            kth = np.partition(logits, -top_k, axis=-1)[:, -top_k][:, None]
            logits = np.where(logits < kth, -np.inf, logits)
        probs = softmax(logits, axis=-1)
        u = rng.random((len(probs), 1))
        out = (np.cumsum(probs, axis=-1) < u).sum(axis=-1)
        return np.minimum(out, probs.shape[-1] - 1)
