"""Principal component analysis by singular value decomposition."""
from __future__ import annotations

import numbers

import numpy as np

from ..base import BaseEstimator, TransformerMixin, check_array, check_is_fitted


def svd_flip_rows(Vt: np.ndarray, U: np.ndarray | None = None):
    """Make the largest-magnitude entry of each row of Vt positive.

    Flips the matching columns of U too, so that U S Vt is unchanged.
    """
    cols = np.argmax(np.abs(Vt), axis=1)
    signs = np.sign(Vt[np.arange(Vt.shape[0]), cols])
    signs[signs == 0] = 1.0
    Vt = Vt * signs[:, None]
    if U is not None:
        U = U * signs[None, :]
    return Vt, U


class PCA(TransformerMixin, BaseEstimator):
    """Linear dimensionality reduction, as ``sklearn.decomposition.PCA``.

    Centres X and takes a full SVD. ``n_components``: None keeps
    min(n, d); an int keeps that many; a float in (0, 1) keeps the fewest
    components explaining that fraction of variance. ``whiten`` scales
    projections to unit variance. Component signs: the largest-magnitude
    loading of each component is positive.

    Fitted attributes: ``components_`` (k, d), ``explained_variance_`` (k,),
    ``explained_variance_ratio_`` (k,), ``singular_values_`` (k,),
    ``mean_`` (d,), ``n_components_``, ``noise_variance_``,
    ``n_samples_``, ``n_features_in_``.
    """

    def __init__(self, n_components=None, whiten: bool = False):
        self.n_components = n_components
        self.whiten = whiten

    def fit(self, X, y=None):
        """X: (n, d). ``y`` is ignored."""
        self._fit(X)
        return self

    def _fit(self, X) -> tuple[np.ndarray, np.ndarray]:
        X = self._validate_X(X, reset=True, min_samples=2)
        n, d = X.shape
        self.mean_ = X.mean(axis=0)
        U, S, Vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        Vt, U = svd_flip_rows(Vt, U)
        ev = S ** 2 / (n - 1)
        total = ev.sum()
        ratio = ev / total if total > 0 else np.zeros_like(ev)
        k = self._resolve_k(ratio, min(n, d))
        self.n_components_ = k
        self.components_ = Vt[:k]
        self.explained_variance_ = ev[:k]
        self.explained_variance_ratio_ = ratio[:k]
        self.singular_values_ = S[:k]
        self.n_samples_ = n
        self.noise_variance_ = float(ev[k:].mean()) if k < min(n, d) else 0.0
        return U[:, :k], S[:k]

    def _resolve_k(self, ratio: np.ndarray, max_k: int) -> int:
        k = self.n_components
        if k is None:
            return max_k
        if isinstance(k, numbers.Integral) and not isinstance(k, bool):
            if not 1 <= k <= max_k:
                raise ValueError(f"n_components={k} must be between 1 and "
                                 f"min(n_samples, n_features)={max_k}.")
            return int(k)
        if isinstance(k, float) and 0.0 < k < 1.0:
            return int(min(np.searchsorted(np.cumsum(ratio), k,
                                           side="right") + 1, max_k))
        raise ValueError("n_components must be None, an int or a float in "
                         f"(0, 1), got {k!r}.")

    def fit_transform(self, X, y=None) -> np.ndarray:
        """Fit on X (n, d) and return its projection (n, k)."""
        U, S = self._fit(X)
        if self.whiten:
            return U * np.sqrt(self.n_samples_ - 1)
        return U * S

    def transform(self, X) -> np.ndarray:
        """X: (n, d) -> projection on the components (n, k)."""
        X = self._validate_X(X)
        Z = (X - self.mean_) @ self.components_.T
        if self.whiten:
            Z /= np.sqrt(np.maximum(self.explained_variance_, 1e-300))
        return Z

    def inverse_transform(self, Z) -> np.ndarray:
        """Z: (n, k) projections -> points in the input space (n, d)."""
        check_is_fitted(self)
        Z = check_array(Z, estimator=self)
        if Z.shape[1] != self.n_components_:
            raise ValueError(f"Z has {Z.shape[1]} components, but PCA was "
                             f"fitted with {self.n_components_}.")
        comps = self.components_
        if self.whiten:
            comps = np.sqrt(self.explained_variance_)[:, None] * comps
        return Z @ comps + self.mean_

    def get_covariance(self) -> np.ndarray:
        """Model covariance (d, d) = W^T diag(var) W + noise_variance_ I."""
        comps = self.components_
        cov = (comps.T * np.maximum(self.explained_variance_
                                    - self.noise_variance_, 0.0)) @ comps
        cov.flat[::cov.shape[0] + 1] += self.noise_variance_
        return cov
