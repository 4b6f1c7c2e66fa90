"""Batching, train/val/test splitting and feature scalers for ndarrays."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .seeding import make_rng

__all__ = ["batch_iterator", "train_val_test_split", "StandardScaler", "MinMaxScaler"]


def batch_iterator(X, y=None, batch_size: int = 32, shuffle: bool = True, seed=None,
                   drop_last: bool = False) -> Iterator:
    """Yield mini-batches along axis 0.

    X: (N, ...); y: (N, ...) or None. Yields X[b] when y is None, else
    (X[b], y[b]). `seed` (int or Generator) fixes the shuffle order.
    """
    X = np.asarray(X)
    n = len(X)
    if y is not None:
        y = np.asarray(y)
        if len(y) != n:
            raise ValueError(f"batch_iterator: X has {n} samples but y has {len(y)}")
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_iterator: batch_size must be a positive integer, got {batch_size}")
    batch_size = int(batch_size)
    order = make_rng(seed).permutation(n) if shuffle else None
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            sl = slice(start, start + batch_size)
        else:
            sl = order[start:start + batch_size]
        yield X[sl] if y is None else (X[sl], y[sl])


def _check_frac(name: str, f: float) -> float:
    if not 0.0 <= f < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {f}")
    return float(f)


def _split_counts(n: int, val_frac: float, test_frac: float) -> tuple[int, int]:
    n_test = int(round(n * test_frac))
    n_val = int(round(n * val_frac))
    return n_val, n_test


def train_val_test_split(X, y=None, val_frac: float = 0.1, test_frac: float = 0.1, seed=None,
                         stratify=None):
    """Shuffle and split into train/val/test along axis 0.

    Returns (X_train, X_val, X_test) when y is None, else
    (X_train, y_train, X_val, y_val, X_test, y_test). `stratify` (labels of
    shape (N,), typically y) keeps class proportions in every split.
    """
    X = np.asarray(X)
    n = len(X)
    if y is not None:
        y = np.asarray(y)
        if len(y) != n:
            raise ValueError(f"train_val_test_split: X has {n} samples but y has {len(y)}")
    val_frac, test_frac = _check_frac("val_frac", val_frac), _check_frac("test_frac", test_frac)
    if val_frac + test_frac >= 1.0:
        raise ValueError(f"val_frac + test_frac must be < 1, got {val_frac + test_frac}")
    rng = make_rng(seed)
    if stratify is None:
        order = rng.permutation(n)
        n_val, n_test = _split_counts(n, val_frac, test_frac)
        test_idx, val_idx, train_idx = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    else:
        labels = np.asarray(stratify)
        if labels.shape != (n,):
            raise ValueError(f"stratify must have shape ({n},), got {labels.shape}")
        parts = ([], [], [])
        for cls in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == cls))
            n_val, n_test = _split_counts(len(members), val_frac, test_frac)
            parts[0].append(members[n_test + n_val:])
            parts[1].append(members[n_test:n_test + n_val])
            parts[2].append(members[:n_test])
        train_idx, val_idx, test_idx = (rng.permutation(np.concatenate(p)) for p in parts)
    if len(train_idx) == 0:
        raise ValueError(f"train_val_test_split: no samples left for training (n={n})")
    if y is None:
        return X[train_idx], X[val_idx], X[test_idx]
    return X[train_idx], y[train_idx], X[val_idx], y[val_idx], X[test_idx], y[test_idx]


class _Scaler:
    """Shared fit checks: X is (N, F); statistics are per feature."""

    _fitted_attr = ""

    def _check(self, X, fitting: bool = False) -> np.ndarray:
        X = np.asarray(X)
        name = type(self).__name__
        if X.ndim != 2:
            raise ValueError(f"{name}: expected a 2-D array (n_samples, n_features), got shape {X.shape}")
        if not np.issubdtype(X.dtype, np.floating):
            X = X.astype(np.float64)
        if fitting:
            if len(X) == 0:
                raise ValueError(f"{name}: cannot fit on 0 samples")
            return X
        if getattr(self, self._fitted_attr) is None:
            raise RuntimeError(f"{name} is not fitted yet; call fit(X) or fit_transform(X) first")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{name}: X has {X.shape[1]} features, but the scaler was fitted with {self.n_features_in_}"
            )
        return X

    def fit_transform(self, X) -> np.ndarray:
        """fit(X) then transform(X); (N, F) -> (N, F)."""
        return self.fit(X).transform(X)


class StandardScaler(_Scaler):
    """(X - mean) / std per feature; zero-variance features get scale 1."""

    _fitted_attr = "mean_"

    def __init__(self, with_mean: bool = True, with_std: bool = True):
        self.with_mean, self.with_std = with_mean, with_std
        self.mean_ = self.scale_ = self.var_ = None
        self.n_features_in_ = None

    def fit(self, X) -> StandardScaler:
        """Learn mean_/scale_ of shape (F,) from X of shape (N, F)."""
        X = self._check(X, fitting=True)
        self.n_features_in_ = X.shape[1]
        self.mean_ = X.mean(axis=0) if self.with_mean else np.zeros(X.shape[1], X.dtype)
        self.var_ = X.var(axis=0)
        scale = np.sqrt(self.var_)
        eps = 10 * np.finfo(X.dtype).eps * np.maximum(np.abs(X).max(axis=0), 1.0)
        scale[scale <= eps] = 1.0
        self.scale_ = scale if self.with_std else np.ones_like(scale)
        return self

    def transform(self, X) -> np.ndarray:
        """Standardise X (N, F) -> (N, F)."""
        X = self._check(X)
        return ((X - self.mean_) / self.scale_).astype(X.dtype, copy=False)

    def inverse_transform(self, X) -> np.ndarray:
        """Undo transform: X * scale_ + mean_."""
        X = self._check(X)
        return (X * self.scale_ + self.mean_).astype(X.dtype, copy=False)


class MinMaxScaler(_Scaler):
    """Map each feature linearly onto feature_range; constant features map to its low end."""

    _fitted_attr = "data_min_"

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)):
        lo, hi = feature_range
        if not lo < hi:
            raise ValueError(f"MinMaxScaler: feature_range must satisfy min < max, got {feature_range}")
        self.feature_range = (float(lo), float(hi))
        self.data_min_ = self.data_max_ = self.scale_ = self.min_ = None
        self.n_features_in_ = None

    def fit(self, X) -> MinMaxScaler:
        """Learn per-feature data_min_/data_max_ of shape (F,) from X (N, F)."""
        X = self._check(X, fitting=True)
        self.n_features_in_ = X.shape[1]
        self.data_min_, self.data_max_ = X.min(axis=0), X.max(axis=0)
        rng = self.data_max_ - self.data_min_
        rng = np.where(rng == 0, 1.0, rng)
        lo, hi = self.feature_range
        self.scale_ = (hi - lo) / rng
        self.min_ = lo - self.data_min_ * self.scale_
        return self

    def transform(self, X) -> np.ndarray:
        """Scale X (N, F) -> (N, F)."""
        X = self._check(X)
        return (X * self.scale_ + self.min_).astype(X.dtype, copy=False)

    def inverse_transform(self, X) -> np.ndarray:
        """Undo transform: (X - min_) / scale_."""
        X = self._check(X)
        return ((X - self.min_) / self.scale_).astype(X.dtype, copy=False)
