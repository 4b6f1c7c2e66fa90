"""Frechet distance (FID) and kernel inception distance (KID) between two sets of feature vectors, in NumPy.

FID (Heusel et al. 2017) fits a Gaussian to each set and takes

    d^2 = ||mu_1 - mu_2||^2 + tr(S_1) + tr(S_2) - 2 tr((S_1 S_2)^(1/2)).

S_1 S_2 is not symmetric, but it is similar to A S_2 A with A = S_1^(1/2) (symmetric, positive semi-definite),
so tr((S_1 S_2)^(1/2)) = sum_i sqrt(lambda_i(A S_2 A)): two symmetric eigendecompositions, no scipy.

KID (Binkowski et al. 2018) is the unbiased estimate of the squared MMD with the cubic polynomial kernel
k(x, y) = (x.y / d + 1)^3, averaged over random subsets of m vectors from each set:

    MMD^2_u = sum_{i != j} k(x_i, x_j) / (m (m-1)) + sum_{i != j} k(y_i, y_j) / (m (m-1))
              - 2 sum_{i,j} k(x_i, y_j) / m^2

Both are computed here on our own classifier's features; see feature_classifier.py for what that means.
"""
from __future__ import annotations

import numpy as np

__all__ = ["feature_statistics", "sqrtm_psd", "frechet_distance", "fid_from_features", "polynomial_kernel",
           "mmd2_unbiased", "kid_from_features"]


def _features(f, what: str) -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"{what}: expected features of shape (N, D) with N >= 2, got {f.shape}")
    if not np.isfinite(f).all():
        raise ValueError(f"{what}: the features hold NaN/inf values")
    return f


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """(mean (D,), covariance (D, D) with the N-1 denominator) of features (N, D), in float64."""
    f = _features(features, "feature_statistics")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def sqrtm_psd(matrix) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix (eigenvalues below 0, from rounding,
    are taken as 0)."""
    m = np.asarray(matrix, dtype=np.float64)
    values, vectors = np.linalg.eigh((m + m.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Squared Frechet distance between N(mu1, sigma1) and N(mu2, sigma2) (the FID formula above)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    d = mu1.shape[0] if mu1.ndim == 1 else -1
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(f"frechet_distance: expected means (D,) and covariances (D, D), got {mu1.shape}, "
                         f"{sigma1.shape}, {mu2.shape}, {sigma2.shape}")
    for name, a in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        if not np.isfinite(a).all():
            raise ValueError(f"frechet_distance: {name} holds NaN/inf values")
    root1 = sqrtm_psd(sigma1)
    product = root1 @ sigma2 @ root1
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh((product + product.T) / 2), 0.0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean, 0.0))


def fid_from_features(features1, features2) -> float:
    """FID between two feature sets (N1, D) and (N2, D)."""
    return frechet_distance(*feature_statistics(features1), *feature_statistics(features2))


def polynomial_kernel(x, y) -> np.ndarray:
    """k(x, y) = (x.y / d + 1)^3 for every pair: (N, D), (M, D) -> (N, M)."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x, y) -> float:
    """Unbiased squared MMD with the cubic polynomial kernel between two equal-sized sets (m, D), m >= 2."""
    m = len(x)
    if len(y) != m or m < 2:
        raise ValueError(f"mmd2_unbiased: need two sets of the same size m >= 2, got {len(x)} and {len(y)}")
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(within - 2.0 * kxy.sum() / (m * m))


def kid_from_features(features1, features2, num_subsets: int = 100, subset_size: int = 1000,
                      rng: np.random.Generator | None = None) -> tuple[float, float]:
    """KID as (mean, std) of ``mmd2_unbiased`` over ``num_subsets`` random subsets of
    min(subset_size, N1, N2) vectors drawn without replacement from each set."""
    f1, f2 = _features(features1, "kid_from_features"), _features(features2, "kid_from_features")
    if f1.shape[1] != f2.shape[1]:
        raise ValueError(f"kid_from_features: feature sizes differ, {f1.shape} and {f2.shape}")
    if num_subsets < 1:
        raise ValueError(f"kid_from_features: num_subsets must be >= 1, got {num_subsets}")
    rng = np.random.default_rng(0) if rng is None else rng
    m = min(int(subset_size), len(f1), len(f2))
    values = np.array([mmd2_unbiased(f1[rng.choice(len(f1), m, replace=False)],
                                     f2[rng.choice(len(f2), m, replace=False)]) for _ in range(num_subsets)])
    return float(values.mean()), float(values.std())
