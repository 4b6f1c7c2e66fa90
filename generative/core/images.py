"""Image grids of a batch and PNG files (Pillow).

    grid = make_grid(images, nrow=8)     # (N, C, H, W) in [0, 1] -> (C, rows*(H+p)+p, nrow*(W+p)+p)
    save_png(grid, "samples.png")        # CHW in [0, 1] -> 8-bit PNG, written atomically
"""
from __future__ import annotations

import math
import os
import secrets

import numpy as np

__all__ = ["make_grid", "to_uint8_hwc", "save_png", "save_grid"]


def _check_images(images, what: str = "images") -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] not in (1, 3, 4) or 0 in images.shape:
        raise ValueError(f"{what} must be (N, C, H, W) with N >= 1 and C in (1, 3, 4), got shape {images.shape}")
    if images.dtype.kind not in "fiu":
        raise ValueError(f"{what} must be numeric, got dtype {images.dtype}")
    if images.dtype.kind == "f" and not np.isfinite(images).all():
        raise ValueError(f"{what} hold {int((~np.isfinite(images)).sum())} NaN/inf values")
    return images


def make_grid(images, nrow: int | None = None, padding: int = 2, pad_value: float = 1.0) -> np.ndarray:
    """Tile a batch (N, C, H, W) with values in [0, 1] (clipped) into one image (C, H_grid, W_grid) float32.

    ``nrow`` images per row (default ceil(sqrt(N))); rows are filled left to right, top to bottom, and a last
    incomplete row is padded with ``pad_value``; ``padding`` pixels separate the images and frame the grid.
    """
    images = _check_images(images)
    n, c, h, w = images.shape
    nrow = int(math.ceil(math.sqrt(n))) if nrow is None else int(nrow)
    if nrow < 1 or padding < 0:
        raise ValueError(f"make_grid: nrow must be >= 1 and padding >= 0, got nrow={nrow}, padding={padding}")
    ncol = min(nrow, n)
    rows = int(math.ceil(n / ncol))
    grid = np.full((c, rows * (h + padding) + padding, ncol * (w + padding) + padding), pad_value, np.float32)
    clipped = np.clip(images.astype(np.float32), 0.0, 1.0)
    for i in range(n):
        r, k = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + k * (w + padding)
        grid[:, top:top + h, left:left + w] = clipped[i]
    return grid


def to_uint8_hwc(image) -> np.ndarray:
    """(C, H, W) float in [0, 1] -> (H, W, C) uint8, rounding to the nearest level."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3 or image.shape[0] not in (1, 3, 4):
        raise ValueError(f"expected one (C, H, W) image with C in (1, 3, 4), got shape {image.shape}")
    if not np.isfinite(image).all():
        raise ValueError("the image holds NaN/inf values")
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).transpose(1, 2, 0)


def save_png(image, path, scale: int = 1) -> str:
    """Write one (C, H, W) image in [0, 1] as a PNG at ``path`` (atomically; folders are created), each pixel
    repeated ``scale`` times along both axes. Returns the path."""
    from PIL import Image

    hwc = to_uint8_hwc(image)
    scale = int(scale)
    if scale < 1:
        raise ValueError(f"save_png: scale must be >= 1, got {scale}")
    if scale > 1:
        hwc = hwc.repeat(scale, axis=0).repeat(scale, axis=1)
    pil = Image.fromarray(np.ascontiguousarray(hwc[..., 0] if hwc.shape[2] == 1 else hwc))
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        pil.save(tmp, format="PNG")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def save_grid(images, path, nrow: int | None = None, padding: int = 2, scale: int = 1) -> str:
    """``save_png(make_grid(images, nrow, padding), path, scale)``."""
    return save_png(make_grid(images, nrow=nrow, padding=padding), path, scale=scale)
