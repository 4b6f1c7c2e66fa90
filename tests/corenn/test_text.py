"""Character tokenizer and the character-level text dataset."""
import numpy as np
import pytest

from corenn.datasets import CharTextDataset, CharTokenizer

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 5


def test_tokenizer_round_trip_and_json(tmp_path):
    tok = CharTokenizer.from_text(TEXT)
    assert tok.vocab_size == len(set(TEXT)) and tok.chars == sorted(set(TEXT))
    ids = tok.encode(TEXT)
    assert ids.dtype == np.int64 and ids.shape == (len(TEXT),)
    assert tok.decode(ids) == TEXT
    assert tok.decode(ids.tolist()) == TEXT
    path = tmp_path / "vocab.json"
    tok.save(path)
    again = CharTokenizer.load(path)
    assert again == tok and again.decode(again.encode("hear me")) == "hear me"
    assert CharTokenizer.from_json(tok.to_json()) == tok
    with pytest.raises(ValueError, match="'Z' is not in the vocabulary"):
        tok.encode("Zed")
    with pytest.raises(ValueError, match="ids must be in"):
        tok.decode([tok.vocab_size])
    with pytest.raises(ValueError, match="more than once"):
        CharTokenizer("aab")
    with pytest.raises(ValueError, match="expected"):
        CharTokenizer.from_json('{"chars": 3}')


def test_dataset_split_and_batches(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(TEXT)
    data = CharTextDataset(path, block_size=8)
    ids = data.tokenizer.encode(TEXT)
    n_train = round(0.9 * len(TEXT))
    np.testing.assert_array_equal(data.splits["train"], ids[:n_train])
    np.testing.assert_array_equal(data.splits["val"], ids[n_train:])  # the last 10% is held out
    x, y = data.get_batch("train", 5, np.random.default_rng(0))
    assert x.shape == y.shape == (5, 8) and x.dtype == np.int64
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    val = data.splits["val"]
    xv, yv = data.get_batch("val", 20, np.random.default_rng(1))
    for row, nxt in zip(xv, yv):  # every window lies inside the validation text
        starts = [i for i in range(len(val) - 8) if np.array_equal(val[i:i + 8], row)]
        assert starts and any(val[s + 8] == nxt[-1] for s in starts)
    a = data.get_batch("train", 4, np.random.default_rng(5))
    b = data.get_batch("train", 4, np.random.default_rng(5))
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError, match="split must be"):
        data.get_batch("test", 2, np.random.default_rng(0))


def test_dataset_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.txt"):
        CharTextDataset(tmp_path / "nothing.txt")
    with pytest.raises(ValueError, match="fewer than block_size"):
        CharTextDataset(text="short text", block_size=8)
    tok = CharTokenizer("abc")
    with pytest.raises(ValueError, match="not in the vocabulary"):
        CharTextDataset(text=TEXT, tokenizer=tok)
    with pytest.raises(ValueError, match="exactly one"):
        CharTextDataset()
