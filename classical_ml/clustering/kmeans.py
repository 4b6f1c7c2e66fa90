"""k-means clustering: k-means++ seeding, Lloyd iterations, best of n_init."""
from __future__ import annotations

import numbers

import numpy as np

from ..base import BaseEstimator, ClusterMixin, TransformerMixin, check_random_state


def squared_distances(X: np.ndarray, C: np.ndarray,
                      X_sq: np.ndarray | None = None) -> np.ndarray:
    """Squared Euclidean distances: X (n, d), C (k, d) -> (n, k), >= 0."""
    if X_sq is None:
        X_sq = np.einsum("ij,ij->i", X, X)
    D = X_sq[:, None] - 2.0 * X @ C.T + np.einsum("ij,ij->i", C, C)[None, :]
    return np.maximum(D, 0.0, out=D)


def kmeans_plusplus(X: np.ndarray, n_clusters: int, rng: np.random.Generator,
                    X_sq: np.ndarray | None = None) -> np.ndarray:
    """Greedy k-means++ seeding (as scikit-learn): X (n, d) -> centres (k, d).

    Each new centre is the best, by resulting inertia, of
    ``2 + log(k)`` candidates drawn with probability proportional to the
    squared distance to the nearest chosen centre.
    """
    n = X.shape[0]
    if X_sq is None:
        X_sq = np.einsum("ij,ij->i", X, X)
    n_trials = 2 + int(np.log(n_clusters))
    centers = np.empty((n_clusters, X.shape[1]))
    centers[0] = X[rng.integers(n)]
    closest = squared_distances(X, centers[:1], X_sq)[:, 0]
    pot = closest.sum()
    for c in range(1, n_clusters):
        if pot <= 0:   # fewer distinct points than clusters
            centers[c] = X[rng.integers(n)]
            continue
        cum = np.cumsum(closest)
        cand = np.searchsorted(cum, rng.random(n_trials) * cum[-1])
        cand = np.minimum(cand, n - 1)
        d_cand = squared_distances(X, X[cand], X_sq)            # (n, trials)
        new_closest = np.minimum(closest[:, None], d_cand)
        pots = new_closest.sum(axis=0)
        best = int(np.argmin(pots))
        centers[c] = X[cand[best]]
        closest, pot = new_closest[:, best], pots[best]
    return centers


def lloyd(X: np.ndarray, centers: np.ndarray, max_iter: int, tol: float,
          X_sq: np.ndarray | None = None):
    """Lloyd's algorithm from ``centers`` (k, d).

    Stops when labels do not change or the total squared centre shift is
    at most ``tol``. Returns (labels (n,), centres (k, d), inertia, n_iter).
    """
    n, k = X.shape[0], centers.shape[0]
    if X_sq is None:
        X_sq = np.einsum("ij,ij->i", X, X)
    labels = None
    it = 0
    while it < max_iter:
        it += 1
        D = squared_distances(X, centers, X_sq)
        new_labels = D.argmin(axis=1)
        if labels is not None and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        onehot = np.zeros((n, k))
        onehot[np.arange(n), labels] = 1.0
        counts = onehot.sum(axis=0)
        new_centers = onehot.T @ X
        empty = counts == 0
        if empty.any():   # move empty clusters onto the worst-fitted points
            far = np.argsort(-D[np.arange(n), labels])[:int(empty.sum())]
            new_centers[empty] = X[far]
            counts[empty] = 1.0
        new_centers /= counts[:, None]
        shift = np.sum((new_centers - centers) ** 2)
        centers = new_centers
        if shift <= tol:
            break
    D = squared_distances(X, centers, X_sq)
    labels = D.argmin(axis=1)
    inertia = float(D[np.arange(n), labels].sum())
    return labels, centers, inertia, it


class KMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """k-means, as ``sklearn.cluster.KMeans`` (Lloyd's algorithm).

    Parameters: ``n_clusters``; ``init`` "k-means++", "random" or an array
    (k, d); ``n_init`` runs kept by lowest inertia ("auto": 1 for
    k-means++ or an array, 10 for random); ``max_iter``; ``tol`` relative to
    the mean feature variance; ``random_state``.

    Fitted attributes: ``cluster_centers_`` (k, d), ``labels_`` (n,),
    ``inertia_`` (sum of squared distances to the closest centre),
    ``n_iter_``, ``n_features_in_``.
    """

    def __init__(self, n_clusters: int = 8, init="k-means++", n_init="auto",
                 max_iter: int = 300, tol: float = 1e-4, random_state=None):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _resolve_n_init(self) -> int:
        if self.n_init == "auto":
            return 10 if (isinstance(self.init, str)
                          and self.init == "random") else 1
        if not (isinstance(self.n_init, numbers.Integral) and self.n_init >= 1):
            raise ValueError(f"n_init must be 'auto' or an int >= 1, got "
                             f"{self.n_init!r}.")
        return int(self.n_init)

    def fit(self, X, y=None):
        """X: (n, d). ``y`` is ignored."""
        X = self._validate_X(X, reset=True)
        k = self.n_clusters
        if not (isinstance(k, numbers.Integral) and 1 <= k <= X.shape[0]):
            raise ValueError(f"n_clusters={k!r} must be an int in [1, "
                             f"n_samples={X.shape[0]}].")
        if not (isinstance(self.max_iter, numbers.Integral)
                and self.max_iter >= 1):
            raise ValueError("max_iter must be an int >= 1.")
        n_init = self._resolve_n_init()
        rng = check_random_state(self.random_state)
        mean = X.mean(axis=0)
        Xc = X - mean                           # centring improves accuracy
        X_sq = np.einsum("ij,ij->i", Xc, Xc)
        tol = float(self.tol) * float(np.mean(Xc.var(axis=0)))
        explicit = not isinstance(self.init, str)
        if explicit:
            init = np.asarray(self.init, dtype=np.float64)
            if init.shape != (k, X.shape[1]):
                raise ValueError(f"init array has shape {init.shape}, "
                                 f"expected {(k, X.shape[1])}.")
            n_init = 1
        elif self.init not in ("k-means++", "random"):
            raise ValueError("init must be 'k-means++', 'random' or an array,"
                             f" got {self.init!r}.")
        best = None
        for _ in range(n_init):
            if explicit:
                centers = init - mean
            elif self.init == "k-means++":
                centers = kmeans_plusplus(Xc, k, rng, X_sq)
            else:
                centers = Xc[rng.choice(X.shape[0], k, replace=False)]
            run = lloyd(Xc, centers, int(self.max_iter), tol, X_sq)
            if best is None or run[2] < best[2]:
                best = run
        labels, centers, inertia, n_iter = best
        self.labels_ = labels
        self.cluster_centers_ = centers + mean
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        return self

    def transform(self, X) -> np.ndarray:
        """X: (n, d) -> Euclidean distance to each centre (n, k)."""
        X = self._validate_X(X)
        return np.sqrt(squared_distances(X, self.cluster_centers_))

    def predict(self, X) -> np.ndarray:
        """X: (n, d) -> index of the closest centre (n,)."""
        X = self._validate_X(X)
        return squared_distances(X, self.cluster_centers_).argmin(axis=1)

    def score(self, X, y=None) -> float:
        """Negative inertia of X (n, d) under the fitted centres."""
        X = self._validate_X(X)
        return -float(squared_distances(X, self.cluster_centers_)
                      .min(axis=1).sum())
