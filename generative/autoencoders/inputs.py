"""Input checks and small helpers the autoencoders share: image and label validation, one-hot conditions,
finite-loss checks and latent interpolation."""
from __future__ import annotations

import math

import numpy as np

__all__ = ["check_images", "check_batch_labels", "one_hot", "finite_stats", "interpolate_latents"]


def check_images(x, image_shape: tuple, data_range: str | None = None, name: str = "x") -> np.ndarray:
    """``x`` as float32 (B, C, H, W) after checking its shape, finiteness and (if given) its data range."""
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[1:] != tuple(image_shape) or x.shape[0] == 0:
        raise ValueError(f"{name} must have shape (B, {', '.join(map(str, image_shape))}) with B >= 1, "
                         f"got {x.shape}")
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be numeric images, got dtype {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or inf")
    if data_range == "binary" and not np.isin(x, (0.0, 1.0)).all():
        raise ValueError(f"{name} must be binary (0 or 1) for this model's data_range 'binary' "
                         f"(the trainer binarises [0, 1] pixels afresh each batch)")
    if data_range == "unit" and (x.min() < 0.0 or x.max() > 1.0):
        raise ValueError(f"{name} must lie in [0, 1] for data_range 'unit', got {x.min():.3g}..{x.max():.3g}")
    if data_range == "symmetric" and (x.min() < -1.0 or x.max() > 1.0):
        raise ValueError(f"{name} must lie in [-1, 1] for data_range 'symmetric', got {x.min():.3g}..{x.max():.3g}")
    return x


def check_batch_labels(y, batch: int, num_classes: int) -> np.ndarray:
    """``y`` as int64 (B,) class indices in [0, num_classes)."""
    if y is None:
        raise ValueError(f"this model is conditional: labels of shape ({batch},) are required")
    y = np.asarray(y)
    if y.shape != (batch,) or y.dtype.kind not in "iu":
        raise ValueError(f"labels must be ({batch},) integers, got {y.shape} {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got {y.min()}..{y.max()}")
    return y.astype(np.int64)


def one_hot(y: np.ndarray, num_classes: int) -> np.ndarray:
    """(B,) int -> (B, num_classes) float32."""
    return np.eye(num_classes, dtype=np.float32)[y]


def finite_stats(stats: dict, model: str) -> dict:
    """The stats as Python floats; a non-finite one raises FloatingPointError naming it."""
    out = {k: float(v) for k, v in stats.items()}
    bad = [k for k, v in out.items() if not math.isfinite(v)]
    if bad:
        raise FloatingPointError(f"{model}: non-finite {', '.join(bad)} "
                                 f"({', '.join(f'{k}={out[k]}' for k in bad)}); lower the learning rate")
    return out


def interpolate_latents(z_start: np.ndarray, z_end: np.ndarray, steps: int) -> np.ndarray:
    """Straight lines from z_start to z_end (rows, D), both ends included -> (rows * steps, D), row-major."""
    if steps < 2:
        raise ValueError(f"steps must be >= 2 (the two ends), got {steps}")
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[None, :, None]
    z = (1.0 - t) * z_start[:, None, :] + t * z_end[:, None, :]
    return z.reshape(-1, z_start.shape[1]).astype(np.float32)
