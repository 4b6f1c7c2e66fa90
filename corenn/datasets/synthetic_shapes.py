"""Synthetic segmentation data: discs, squares and triangles on noise, with per-pixel class masks.

    images, masks = make_shapes(n=1000, size=32, rng=np.random.default_rng(0))
    images (n, 1, size, size) float32, masks (n, size, size) int64

Mask classes: 0 background, 1 disc, 2 square, 3 triangle (SHAPE_CLASSES), or 0/1 with
``per_class=False``. Each image gets 1..max_shapes shapes of random kind, size, place and brightness on
a background of Gaussian noise. By default shapes do not touch (a shape that would is placed again, up
to 10 tries, then left out), so every object is whole; with ``overlap=True`` they are painted in order,
a later shape covering an earlier one in the image and in the mask. Squares are axis-aligned;
triangles are isosceles, pointing up or down. Everything is drawn with whole-batch array operations
(the cost is tries x max_shapes x n x size^2), with no per-image loop.
"""
from __future__ import annotations

import numpy as np

__all__ = ["make_shapes", "SHAPE_CLASSES"]

SHAPE_CLASSES = ("background", "disc", "square", "triangle")


def _col(a):
    return a[:, None, None]


def _grow(occupied):
    """(n, H, W) bool -> the same grown by one pixel in all 8 directions."""
    p = np.pad(occupied, ((0, 0), (1, 1), (1, 1)))
    h, w = occupied.shape[1:]
    out = occupied.copy()
    for dy in range(3):
        for dx in range(3):
            out |= p[:, dy:dy + h, dx:dx + w]
    return out


def _masks(kind, cy, cx, r, flip, yy, xx):
    """Boolean (n, H, W) masks of one shape per image; kind 0 disc, 1 square, 2 triangle."""
    dy, dx = yy - cy, xx - cx                                   # (n, H, W) offsets from the centre
    disc = dy * dy + dx * dx <= r * r
    square = (np.abs(dy) <= 0.8 * r) & (np.abs(dx) <= 0.8 * r)  # similar area to the disc
    # triangle: apex at dy = -r, base at dy = +r and half-width r there (flip turns it upside down)
    t = np.where(flip, -dy, dy)
    triangle = (t <= r) & (np.abs(dx) <= (t + r) * 0.5 + 0.5)
    return np.select([kind == 0, kind == 1], [disc, square], triangle)


def make_shapes(n: int, size: int = 32, max_shapes: int = 3, radius=(4.0, 9.0), noise: float = 0.2,
                per_class: bool = True, overlap: bool = False, rng=None):
    """n images (n, 1, size, size) float32 and masks (n, size, size) int64 (see the module docstring).

    radius: (min, max) half-extent of a shape in pixels; noise: std of the background's Gaussian noise
    (shapes are 0.5..1.0 bright over a 0.0 background mean, the noise is added everywhere);
    overlap: let shapes overlap (see the module docstring); rng: a numpy Generator or an int seed (None:
    fresh entropy).
    """
    for name, v, least in (("n", n, 1), ("size", size, 8), ("max_shapes", max_shapes, 1)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < least:
            raise ValueError(f"make_shapes: {name} must be an int >= {least}, got {v!r}")
    r_min, r_max = (float(v) for v in radius)
    if not 1.0 <= r_min <= r_max or 2 * r_max + 2 > size:
        raise ValueError(f"make_shapes: radius must be (min, max) with 1 <= min <= max and 2 * max + 2 <= size "
                         f"({size}), got {radius!r}")
    if noise < 0:
        raise ValueError(f"make_shapes: noise must be >= 0, got {noise}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    yy, xx = yy[None], xx[None]
    image = np.zeros((n, size, size), dtype=np.float32)
    mask = np.zeros((n, size, size), dtype=np.int64)
    count = rng.integers(1, max_shapes + 1, size=n)
    for slot in range(max_shapes):
        todo = np.flatnonzero(count > slot)                     # images that still want a shape in this slot
        for _ in range(1 if overlap else 10):                   # without overlap: up to 10 placements
            k = len(todo)
            kind = rng.integers(0, 3, size=k)
            r = rng.uniform(r_min, r_max, size=k).astype(np.float32)
            cy = rng.uniform(r, size - 1 - r).astype(np.float32)
            cx = rng.uniform(r, size - 1 - r).astype(np.float32)
            flip = rng.random(k) < 0.5
            brightness = rng.uniform(0.5, 1.0, size=k).astype(np.float32)
            inside = _masks(_col(kind), _col(cy), _col(cx), _col(r), _col(flip), yy, xx)
            place = np.ones(k, dtype=bool)
            if not overlap:  # keep a gap: the shape must miss the shapes drawn so far, grown by one pixel
                place = ~(inside & _grow(mask[todo] > 0)).any(axis=(1, 2))
            rows, inside = todo[place], inside[place]
            label = kind[place] + 1 if per_class else np.ones(len(rows), np.int64)
            image[rows] = np.where(inside, _col(brightness[place]), image[rows])
            mask[rows] = np.where(inside, _col(label), mask[rows])
            todo = todo[~place]
            if not len(todo):
                break
    image += rng.normal(0.0, noise, size=image.shape).astype(np.float32)
    return image[:, None], mask
