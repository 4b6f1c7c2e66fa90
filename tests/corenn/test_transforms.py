"""Batch augmentation on NCHW ndarrays: crops, flips, normalisation, Compose."""
import numpy as np
import pytest

import corenn as cn
from corenn.datasets.transforms import (
    Compose,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    normalize,
    random_crop,
    random_horizontal_flip,
    to_float32,
)


def images(n=16, c=3, h=8, w=8, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.uint8:
        return rng.integers(0, 256, size=(n, c, h, w), dtype=np.uint8)
    return rng.standard_normal((n, c, h, w)).astype(dtype)


def offsets_of(crops, padded):
    """For each image, every (top, left) at which its crop sits in the padded image."""
    _, _, ch, cw = crops.shape
    found = []
    for crop, full in zip(crops, padded):
        found.append([(i, j) for i in range(full.shape[1] - ch + 1) for j in range(full.shape[2] - cw + 1)
                      if np.array_equal(full[:, i:i + ch, j:j + cw], crop)])
    return found


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_random_crop_takes_a_window_of_the_padded_image(dtype):
    x = images(12, 2, 6, 7, dtype)
    before = x.copy()
    out = random_crop(x, (6, 7), padding=2, rng=np.random.default_rng(0))
    assert out.shape == x.shape and out.dtype == x.dtype
    np.testing.assert_array_equal(x, before)  # input untouched
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    assert all(len(found) >= 1 for found in offsets_of(out, padded))


def test_random_crop_draws_every_offset_and_per_image():
    x = images(400, 1, 4, 4)
    out = random_crop(x, 4, padding=1, rng=np.random.default_rng(1))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    offsets = {found[0] for found in offsets_of(out, padded)}
    assert offsets == {(i, j) for i in range(3) for j in range(3)}  # all 9 windows occur


def test_random_crop_smaller_size_without_padding_and_same_size_is_identity():
    x = images(5, 3, 10, 9)
    out = random_crop(x, (4, 5), rng=np.random.default_rng(2))
    assert out.shape == (5, 3, 4, 5)
    assert all(len(found) >= 1 for found in offsets_of(out, x))
    np.testing.assert_array_equal(random_crop(x, (10, 9), rng=np.random.default_rng(3)), x)


def test_random_crop_fill_and_padding_modes():
    x = np.ones((50, 1, 3, 3), dtype=np.float32)
    out = random_crop(x, 3, padding=2, fill=-1.0, rng=np.random.default_rng(0))
    assert set(np.unique(out)) == {-1.0, 1.0}
    edge = random_crop(x, 3, padding=2, padding_mode="edge", rng=np.random.default_rng(0))
    np.testing.assert_array_equal(edge, np.ones_like(edge))


def test_random_crop_is_reproducible_with_a_seeded_generator():
    x = images(32)
    a = random_crop(x, 8, padding=4, rng=np.random.default_rng(7))
    b = random_crop(x, 8, padding=4, rng=np.random.default_rng(7))
    c = random_crop(x, 8, padding=4, rng=np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("kwargs,err,match", [
    ({"size": 20, "padding": 2}, ValueError, "larger than the padded image"),
    ({"size": 0}, ValueError, "size must be >= 1"),
    ({"size": 4, "padding": -1}, ValueError, "padding must be >= 0"),
    ({"size": (4, 4, 4)}, ValueError, "pair of ints"),
    ({"size": 4, "padding_mode": "wrap"}, ValueError, "padding_mode"),
    ({"size": 4, "rng": 3}, TypeError, "numpy.random.Generator"),
])
def test_random_crop_errors(kwargs, err, match):
    with pytest.raises(err, match=match):
        random_crop(images(), **kwargs)


def test_transforms_need_an_nchw_batch():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        random_horizontal_flip(np.zeros((3, 8, 8), np.float32))
    with pytest.raises(TypeError, match="ndarray"):
        random_crop([[1.0]], 1)


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_random_horizontal_flip(dtype):
    x = images(400, 2, 5, 6, dtype)
    out = random_horizontal_flip(x, 0.5, rng=np.random.default_rng(0))
    assert out.dtype == x.dtype and out.shape == x.shape
    same = np.all(out == x, axis=(1, 2, 3))
    mirrored = np.all(out == x[..., ::-1], axis=(1, 2, 3))
    assert np.all(same | mirrored)
    assert 150 < mirrored.sum() < 250
    np.testing.assert_array_equal(random_horizontal_flip(x, 0.0, np.random.default_rng(1)), x)
    np.testing.assert_array_equal(random_horizontal_flip(x, 1.0, np.random.default_rng(1)), x[..., ::-1])
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        random_horizontal_flip(x, 1.5)


def test_normalize_per_channel_and_dtype():
    x = images(64, 3, 4, 4) * np.float32(2.0) + np.float32(5.0)
    mean, std = x.mean(axis=(0, 2, 3)), x.std(axis=(0, 2, 3))
    out = normalize(x, mean, std)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1.0, atol=1e-5)
    np.testing.assert_allclose(out[:, 1], (x[:, 1] - mean[1]) / std[1], rtol=1e-6)
    np.testing.assert_allclose(normalize(x, 5.0, 2.0), (x - 5.0) / 2.0, rtol=1e-6)
    assert normalize(x.astype(np.float64), mean, std).dtype == np.float64


def test_normalize_errors():
    with pytest.raises(TypeError, match="to_float32"):
        normalize(images(dtype=np.uint8), 0.5, 0.5)
    with pytest.raises(ValueError, match="1 or C=3 values"):
        normalize(images(), (0.5, 0.5), 1.0)
    with pytest.raises(ValueError, match="non-zero"):
        normalize(images(), 0.0, (1.0, 0.0, 1.0))


def test_to_float32():
    x = np.array([0, 51, 255], dtype=np.uint8).reshape(1, 1, 1, 3)
    out = to_float32(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.ravel(), [0.0, 0.2, 1.0], rtol=1e-6)
    with pytest.raises(TypeError, match="uint8 or floating"):
        to_float32(np.zeros((1, 1, 1, 1), np.int32))


def test_compose_matches_the_calls_in_order_with_one_generator():
    x = images(20)
    pipeline = Compose([RandomCrop(8, padding=2), RandomHorizontalFlip(0.5), Normalize(0.1, 2.0)])
    out = pipeline(x, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    expected = normalize(random_horizontal_flip(random_crop(x, 8, 2, rng), 0.5, rng), 0.1, 2.0)
    np.testing.assert_array_equal(out, expected)
    assert "RandomCrop" in repr(pipeline)
    with pytest.raises(TypeError, match="callable"):
        Compose([RandomCrop(8), "flip"])


def test_default_generator_follows_corenn_manual_seed():
    x = images(20)
    cn.manual_seed(11)
    a = random_crop(x, 8, padding=4)
    cn.manual_seed(11)
    b = random_crop(x, 8, padding=4)
    np.testing.assert_array_equal(a, b)
