"""k-nearest-neighbours classification with brute-force vectorised distances."""
from __future__ import annotations

import numbers

import numpy as np

from ..base import BaseEstimator, ClassifierMixin, check_classification_targets, check_X_y

_BLOCK = 1 << 22  # max elements of one query-by-train distance block


def pairwise_distances(A: np.ndarray, B: np.ndarray, p: float = 2.0
                       ) -> np.ndarray:
    """Minkowski distances between rows: A (m, d), B (n, d) -> (m, n)."""
    if p == 2:
        sq = (np.einsum("ij,ij->i", A, A)[:, None] - 2.0 * A @ B.T
              + np.einsum("ij,ij->i", B, B)[None, :])
        np.maximum(sq, 0.0, out=sq)
        return np.sqrt(sq, out=sq)
    diff = np.abs(A[:, None, :] - B[None, :, :])
    if p == 1:
        return diff.sum(axis=2)
    if p == np.inf:
        return diff.max(axis=2)
    return (diff ** p).sum(axis=2) ** (1.0 / p)


class KNeighborsClassifier(ClassifierMixin, BaseEstimator):
    """k-NN vote, as ``sklearn.neighbors.KNeighborsClassifier`` (brute force).

    Parameters: ``n_neighbors``; ``weights`` "uniform" or "distance" (1/d;
    a query at distance 0 from training points gets only their vote);
    ``p`` Minkowski power (2 Euclidean, 1 Manhattan, any p >= 1 or inf).
    Queries are processed in blocks so memory stays bounded.

    Fitted attributes: ``classes_`` (k,), ``n_samples_fit_``,
    ``n_features_in_``.
    """

    def __init__(self, n_neighbors: int = 5, weights: str = "uniform",
                 p: float = 2):
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.p = p

    def fit(self, X, y):
        """X: (n, d) training points; y: (n,) labels."""
        if not (isinstance(self.n_neighbors, numbers.Integral)
                and self.n_neighbors >= 1):
            raise ValueError(f"n_neighbors must be an int >= 1, got "
                             f"{self.n_neighbors!r}.")
        if self.weights not in ("uniform", "distance"):
            raise ValueError(f"weights must be 'uniform' or 'distance', got "
                             f"{self.weights!r}.")
        if not (isinstance(self.p, numbers.Real) and self.p >= 1):
            raise ValueError(f"p must be >= 1, got {self.p!r}.")
        X, y = check_X_y(X, y, estimator=self)
        self._check_n_features(X, reset=True)
        self.classes_, self._y = check_classification_targets(y)
        self._fit_X = X
        self.n_samples_fit_ = X.shape[0]
        return self

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """Nearest training points of each query.

        X: (m, d) or None (the training set, excluding each point itself).
        Returns (distances (m, k), indices (m, k)) sorted by distance, or only
        the indices when ``return_distance`` is False.
        """
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        query_is_train = X is None
        if query_is_train:
            X = self._fit_X
            k_search = k + 1
        else:
            X = self._validate_X(X)
            k_search = k
        if k_search > self.n_samples_fit_:
            raise ValueError(f"Expected n_neighbors <= n_samples_fit, but "
                             f"n_neighbors = {k}, n_samples_fit = "
                             f"{self.n_samples_fit_}.")
        m = X.shape[0]
        per_row = self.n_samples_fit_ * (1 if self.p == 2 else X.shape[1])
        step = max(1, _BLOCK // max(per_row, 1))
        dist = np.empty((m, k_search))
        ind = np.empty((m, k_search), dtype=np.intp)
        for start in range(0, m, step):
            D = pairwise_distances(X[start:start + step], self._fit_X, self.p)
            if query_is_train:
                rows = np.arange(D.shape[0])
                D[rows, start + rows] = -1.0  # self first, dropped below
            part = np.argpartition(D, k_search - 1, axis=1)[:, :k_search]
            pd = np.take_along_axis(D, part, axis=1)
            order = np.lexsort((part, pd), axis=1) if pd.size else part
            ind[start:start + step] = np.take_along_axis(part, order, axis=1)
            dist[start:start + step] = np.take_along_axis(pd, order, axis=1)
        if query_is_train:
            dist, ind = dist[:, 1:], ind[:, 1:]
        return (dist, ind) if return_distance else ind

    def predict_proba(self, X) -> np.ndarray:
        """X: (m, d) -> neighbour-vote class probabilities (m, n_classes)."""
        dist, ind = self.kneighbors(X)
        if self.weights == "uniform":
            w = np.ones_like(dist)
        else:
            with np.errstate(divide="ignore"):
                w = 1.0 / dist
            exact = np.isinf(w)
            hit = exact.any(axis=1)
            w[hit] = exact[hit].astype(np.float64)
        labels = self._y[ind]                                   # (m, k)
        onehot = labels[..., None] == np.arange(len(self.classes_))
        proba = np.einsum("mk,mkc->mc", w, onehot)
        proba /= proba.sum(axis=1, keepdims=True)
        return proba

    def predict(self, X) -> np.ndarray:
        """X: (m, d) -> labels (m,)."""
        idx = self.predict_proba(X).argmax(axis=1)
        return self.classes_[idx]
