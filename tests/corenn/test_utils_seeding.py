import random

import numpy as np
import pytest

from corenn.utils.seeding import derive_seeds, make_rng, set_seed


def test_set_seed_seeds_everything_and_returns_generator():
    g1 = set_seed(123)
    a = (random.random(), np.random.rand(), g1.random())
    g2 = set_seed(123)
    b = (random.random(), np.random.rand(), g2.random())
    assert isinstance(g1, np.random.Generator)
    assert a == b
    set_seed(124)
    assert random.random() != a[0]


def test_set_seed_rejects_bad_seeds():
    with pytest.raises(TypeError):
        set_seed(1.5)
    with pytest.raises(ValueError):
        set_seed(-1)
    set_seed(2**40)  # large seeds are fine


def test_derive_seeds_deterministic_and_distinct():
    s = derive_seeds(7, 16)
    assert s == derive_seeds(7, 16)
    assert len(set(s)) == 16
    assert all(0 <= x < 2**32 for x in s)
    assert derive_seeds(8, 16) != s
    assert derive_seeds(7, 4) == s[:4]


def test_make_rng():
    g = np.random.default_rng(0)
    assert make_rng(g) is g
    assert make_rng(5).random() == np.random.default_rng(5).random()
    assert isinstance(make_rng(None), np.random.Generator)
