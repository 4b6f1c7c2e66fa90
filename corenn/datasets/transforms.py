"""Batch image augmentation on ndarrays laid out NCHW (torchvision's names, whole batches at once).

Every function takes a batch x (N, C, H, W), draws one independent choice per image from ``rng`` (a
``numpy.random.Generator``; None uses corenn's global generator, seeded by ``corenn.manual_seed``), and
returns a new array of the same dtype (uint8 stays uint8, float32 stays float32); x is never modified.

    random_crop(x, size, padding=4)      pad, then one random size x size window per image
    random_horizontal_flip(x, p=0.5)     mirror each image along W with probability p
    normalize(x, mean, std)              (x - mean[c]) / std[c] per channel (floating-point x)
    to_float32(x)                        uint8 [0, 255] -> float32 [0, 1]

``Compose([RandomCrop(32, 4), RandomHorizontalFlip(), Normalize(mean, std)])(x, rng)`` chains the
class forms, passing the same generator to each. Crops are one fancy-indexing gather on a strided
window view (no per-image Python loop).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..creation import generator
from ..tensor import Tensor

__all__ = ["random_crop", "random_horizontal_flip", "normalize", "to_float32", "Compose", "RandomCrop",
           "RandomHorizontalFlip", "Normalize"]

_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def _batch(x, fn: str) -> np.ndarray:
    x = x.data if isinstance(x, Tensor) else x
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{fn} expects an ndarray batch (N, C, H, W), got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{fn} expects a batch of images (N, C, H, W), got shape {x.shape}")
    return x


def _rng(rng, fn: str) -> np.random.Generator:
    if rng is None:
        return generator()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{fn}: rng must be a numpy.random.Generator or None, got {type(rng).__name__} "
                        f"(use np.random.default_rng(seed) once and pass it to every call)")
    return rng


def _pair(v, name: str, fn: str, minimum: int) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        v = (int(v), int(v))
    elif (isinstance(v, (tuple, list)) and len(v) == 2
          and all(isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in v)):
        v = (int(v[0]), int(v[1]))
    else:
        raise ValueError(f"{fn}: {name} must be an int or a pair of ints (h, w), got {v!r}")
    if min(v) < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {v}")
    return v


def random_crop(x, size, padding=0, rng=None, fill=0, padding_mode: str = "constant") -> np.ndarray:
    """Pad each side by ``padding`` ((ph, pw) or an int), then take one random window of ``size``
    ((h, w) or an int) per image: x (N, C, H, W) -> (N, C, h, w), same dtype.

    padding_mode: "constant" (with ``fill``), "edge", "reflect" or "symmetric" (numpy.pad's modes).
    """
    x = _batch(x, "random_crop")
    rng = _rng(rng, "random_crop")
    ch, cw = _pair(size, "size", "random_crop", 1)
    ph, pw = _pair(padding, "padding", "random_crop", 0)
    if padding_mode not in _PAD_MODES:
        raise ValueError(f"random_crop: padding_mode must be one of {_PAD_MODES}, got {padding_mode!r}")
    n, _, h, w = x.shape
    if ch > h + 2 * ph or cw > w + 2 * pw:
        raise ValueError(f"random_crop: crop size {(ch, cw)} is larger than the padded image "
                         f"{(h + 2 * ph, w + 2 * pw)}")
    if ph or pw:
        widths = ((0, 0), (0, 0), (ph, ph), (pw, pw))
        extra = {"constant_values": fill} if padding_mode == "constant" else {}
        x = np.pad(x, widths, mode=padding_mode, **extra)
    top = rng.integers(0, x.shape[2] - ch + 1, size=n)
    left = rng.integers(0, x.shape[3] - cw + 1, size=n)
    windows = sliding_window_view(x, (ch, cw), axis=(2, 3))    # (N, C, H', W', ch, cw), a view
    return windows[np.arange(n), :, top, left]                  # advanced indices first: (N, C, ch, cw)


def random_horizontal_flip(x, p: float = 0.5, rng=None) -> np.ndarray:
    """Mirror each image along W with probability p: x (N, C, H, W) -> a new array, same shape and dtype."""
    x = _batch(x, "random_horizontal_flip")
    rng = _rng(rng, "random_horizontal_flip")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"random_horizontal_flip: p must be in [0, 1], got {p}")
    flip = rng.random(len(x)) < p
    return np.where(flip[:, None, None, None], x[..., ::-1], x)


def normalize(x, mean, std) -> np.ndarray:
    """(x - mean[c]) / std[c] for each channel c of a floating-point x (N, C, H, W); same dtype.

    mean, std: one number each, or C numbers. Integer images must be made floats first
    (``to_float32(x)`` for uint8 in [0, 255]).
    """
    x = _batch(x, "normalize")
    if x.dtype.kind != "f":
        raise TypeError(f"normalize expects floating-point images, got dtype {x.dtype}; convert uint8 "
                        f"images with to_float32(x) first")
    c = x.shape[1]
    stats = []
    for name, v in (("mean", mean), ("std", std)):
        a = np.asarray(v, dtype=np.float64).reshape(-1)
        if a.size not in (1, c):
            raise ValueError(f"normalize: {name} must have 1 or C={c} values, got {a.size}")
        stats.append(a.astype(x.dtype).reshape(1, -1, 1, 1))
    mean_a, std_a = stats
    if np.any(std_a == 0):
        raise ValueError(f"normalize: std must be non-zero, got {std}")
    return (x - mean_a) / std_a


def to_float32(x) -> np.ndarray:
    """uint8 images in [0, 255] -> float32 in [0, 1] (torchvision's ToTensor scaling); floats are cast."""
    x = np.asarray(x.data if isinstance(x, Tensor) else x)
    if x.dtype == np.uint8:
        return x.astype(np.float32) * np.float32(1.0 / 255.0)
    if x.dtype.kind != "f":
        raise TypeError(f"to_float32 expects uint8 or floating-point images, got dtype {x.dtype}")
    return x.astype(np.float32)


class RandomCrop:
    """Class form of :func:`random_crop` for :class:`Compose`."""

    def __init__(self, size, padding=0, fill=0, padding_mode: str = "constant"):
        self.size, self.padding, self.fill, self.padding_mode = size, padding, fill, padding_mode

    def __call__(self, x, rng=None):
        return random_crop(x, self.size, self.padding, rng, self.fill, self.padding_mode)

    def __repr__(self):
        return f"RandomCrop(size={self.size!r}, padding={self.padding!r})"


class RandomHorizontalFlip:
    """Class form of :func:`random_horizontal_flip` for :class:`Compose`."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, x, rng=None):
        return random_horizontal_flip(x, self.p, rng)

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class Normalize:
    """Class form of :func:`normalize` for :class:`Compose` (ignores rng)."""

    def __init__(self, mean, std):
        self.mean, self.std = mean, std

    def __call__(self, x, rng=None):
        return normalize(x, self.mean, self.std)

    def __repr__(self):
        return f"Normalize(mean={self.mean!r}, std={self.std!r})"


class Compose:
    """Apply transforms in order: ``Compose([t1, t2])(x, rng) == t2(t1(x, rng), rng)``.

    Each transform is a callable ``t(x, rng)`` (the classes above, or your own function).
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable as t(x, rng), got {t!r}")

    def __call__(self, x, rng=None):
        rng = _rng(rng, "Compose")
        for t in self.transforms:
            x = t(x, rng)
        return x

    def __repr__(self):
        return "Compose([" + ", ".join(repr(t) for t in self.transforms) + "])"
