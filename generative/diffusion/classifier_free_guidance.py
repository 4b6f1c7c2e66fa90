"""Classifier-free guidance (Ho & Salimans, 2021): one network learns eps(x_t, t, y) and eps(x_t, t, null).

Training: each label is replaced by the null class with probability p_uncond (``drop_labels``).
Sampling: eps_guided = eps_uncond + s (eps_cond - eps_uncond)                        (``guided_eps``)
so s = 0 is the unconditional model, s = 1 the conditional one and s > 1 pushes samples towards their class.
(The paper writes (1 + w) eps_cond - w eps_uncond; s = 1 + w. We use s because its two anchors are the two models
the network was trained to be.) Both predictions come from one batched forward of [x, x] with labels [y, null].
"""
from __future__ import annotations

import numpy as np

import corenn

__all__ = ["drop_labels", "combine_guidance", "guided_eps"]


def drop_labels(y: np.ndarray, p_uncond: float, null_class: int, rng: np.random.Generator) -> np.ndarray:
    """y (B,) ints -> a copy with each label replaced by ``null_class`` with probability ``p_uncond``."""
    if not 0.0 <= p_uncond <= 1.0:
        raise ValueError(f"p_uncond must be a probability in [0, 1], got {p_uncond}")
    y = np.asarray(y, dtype=np.int64)
    return np.where(rng.random(y.shape) < p_uncond, np.int64(null_class), y)


def combine_guidance(eps_cond: np.ndarray, eps_uncond: np.ndarray, scale: float) -> np.ndarray:
    """eps_uncond + scale (eps_cond - eps_uncond)."""
    return eps_uncond + scale * (eps_cond - eps_uncond)


def guided_eps(model, x: np.ndarray, t: np.ndarray, y: np.ndarray, scale: float, null_class: int) -> np.ndarray:
    """The guided noise prediction of ``model(x, t, labels)`` (a TimeConditionedUNet) as a float32 ndarray.

    x (B, C, H, W), t (B,), y (B,) class labels. scale 0 or 1 needs one forward (the unconditional or the
    conditional prediction alone); any other scale runs cond and uncond as one batch of 2B."""
    b = x.shape[0]
    null = np.full(b, null_class, dtype=np.int64)
    with corenn.no_grad():
        if scale == 0:
            return model(corenn.Tensor(x), t, null).data
        if scale == 1:
            return model(corenn.Tensor(x), t, y).data
        both = model(corenn.Tensor(np.concatenate([x, x])), np.concatenate([t, t]), np.concatenate([y, null])).data
    return combine_guidance(both[:b], both[b:], scale).astype(np.float32, copy=False)
