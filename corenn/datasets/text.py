"""Character-level text: a tokenizer (one id per distinct character) and a train/validation text dataset
that samples (B, block_size) batches of input ids and their next-character targets.

    tok = CharTokenizer.from_text(text)          # vocabulary: the sorted distinct characters
    ids = tok.encode("to be"); tok.decode(ids)   # round trip
    data = CharTextDataset("shakespeare.txt", block_size=128)   # last 10% held out for validation
    x, y = data.get_batch("train", 32, rng)      # (32, 128) int64 each; y[:, t] = x[:, t + 1] in the text
"""
from __future__ import annotations

import json
import os

import numpy as np

__all__ = ["CharTokenizer", "CharTextDataset"]


class CharTokenizer:
    """Maps each character of ``chars`` (unique) to its index. ``encode`` raises ValueError on a
    character outside the vocabulary; the vocabulary saves as JSON (``to_json``/``save``/``load``)."""

    def __init__(self, chars):
        chars = list(chars)
        if not chars:
            raise ValueError("CharTokenizer needs at least one character")
        if any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise ValueError("CharTokenizer: the vocabulary must be single characters")
        if len(set(chars)) != len(chars):
            raise ValueError("CharTokenizer: the vocabulary lists a character more than once")
        self.chars = chars
        self.stoi = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        """The vocabulary of ``text``: its distinct characters, sorted."""
        return cls(sorted(set(text)))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """str -> int64 ids (len(text),)."""
        try:
            return np.fromiter((self.stoi[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as e:
            raise ValueError(f"CharTokenizer.encode: character {e.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids) -> str:
        """ids (any int sequence or array) -> str."""
        ids = np.asarray(ids).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.chars)):
            raise ValueError(f"CharTokenizer.decode: ids must be in [0, {len(self.chars)}), got "
                             f"{int(ids.min())}..{int(ids.max())}")
        return "".join(self.chars[i] for i in ids.tolist())

    def to_json(self) -> str:
        return json.dumps({"type": "char", "chars": "".join(self.chars)})

    @classmethod
    def from_json(cls, s: str) -> CharTokenizer:
        d = json.loads(s)
        if not isinstance(d, dict) or d.get("type") != "char" or not isinstance(d.get("chars"), str):
            raise ValueError("CharTokenizer.from_json: expected {\"type\": \"char\", \"chars\": \"...\"}")
        return cls(d["chars"])

    def save(self, path) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_json())

    @classmethod
    def load(cls, path) -> CharTokenizer:
        with open(path, encoding="utf-8") as f:
            return cls.from_json(f.read())

    def __eq__(self, other) -> bool:
        return isinstance(other, CharTokenizer) and self.chars == other.chars

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


def read_text(path) -> str:
    """The UTF-8 text at ``path``; FileNotFoundError naming the path when there is none."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"text file not found: {path!r} (pass the path of a UTF-8 text file)")
    with open(path, encoding="utf-8") as f:
        return f.read()


class CharTextDataset:
    """A text file as character ids, split into train (the first 1 - val_fraction) and val (the rest).

    ``tokenizer`` defaults to the text's own characters (``CharTokenizer.from_text``). ``get_batch(split,
    batch_size, rng)`` draws random windows: x (B, block_size) ids and y the same windows shifted by one
    character (int64). ``text`` may be given instead of ``path``.
    """

    def __init__(self, path=None, block_size=128, val_fraction=0.1, tokenizer=None, text=None):
        if (path is None) == (text is None):
            raise ValueError("CharTextDataset: pass exactly one of path and text")
        if block_size < 1:
            raise ValueError(f"CharTextDataset: block_size must be >= 1, got {block_size}")
        if not 0.0 < val_fraction < 1.0:
            raise ValueError(f"CharTextDataset: val_fraction must be in (0, 1), got {val_fraction}")
        self.path = None if path is None else os.fspath(path)
        text = read_text(path) if text is None else text
        self.tokenizer = CharTokenizer.from_text(text) if tokenizer is None else tokenizer
        ids = self.tokenizer.encode(text)
        dtype = np.uint8 if self.tokenizer.vocab_size <= 256 else np.int32
        ids = ids.astype(dtype)
        n_train = int(round(len(ids) * (1.0 - val_fraction)))
        self.block_size = int(block_size)
        self.splits = {"train": ids[:n_train], "val": ids[n_train:]}
        for name, part in self.splits.items():
            if len(part) < self.block_size + 1:
                raise ValueError(f"CharTextDataset: the {name} split has {len(part)} characters, fewer than "
                                 f"block_size + 1 = {self.block_size + 1}; use a longer text or a smaller block_size")
        self._window = np.arange(self.block_size + 1)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    def __len__(self) -> int:
        return sum(len(p) for p in self.splits.values())

    def get_batch(self, split, batch_size, rng):
        """(x, y): int64 (batch_size, block_size) windows starting at random offsets of ``split``."""
        if split not in self.splits:
            raise ValueError(f"CharTextDataset.get_batch: split must be 'train' or 'val', got {split!r}")
        data = self.splits[split]
        starts = rng.integers(0, len(data) - self.block_size, size=batch_size)
        windows = data[starts[:, None] + self._window].astype(np.int64)
        return np.ascontiguousarray(windows[:, :-1]), np.ascontiguousarray(windows[:, 1:])
