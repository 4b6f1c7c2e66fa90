"""Exact t-distributed stochastic neighbour embedding (t-SNE)."""
from __future__ import annotations

import numbers

import numpy as np

from ..base import BaseEstimator, check_positive, check_random_state
from .pca import PCA

_EPS = np.finfo(np.float64).eps


def squared_pairwise(X: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between the rows of X (n, d) -> (n, n)."""
    sq = np.einsum("ij,ij->i", X, X)
    D = sq[:, None] - 2.0 * X @ X.T + sq[None, :]
    np.maximum(D, 0.0, out=D)
    np.fill_diagonal(D, 0.0)
    return D


def conditional_probabilities(D: np.ndarray, perplexity: float,
                              n_steps: int = 100, tol: float = 1e-5
                              ) -> np.ndarray:
    """Row-wise Gaussian affinities p_{j|i} with the given perplexity.

    D: (n, n) squared distances. The precision beta_i of every row is found
    by a bisection run on all rows at once, until the row entropy (nats) is
    within ``tol`` of log(perplexity). Returns P (n, n), rows summing to 1.
    """
    n = D.shape[0]
    target = np.log(perplexity)
    beta = np.ones(n)
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    off = ~np.eye(n, dtype=bool)
    P = np.empty_like(D)
    for _ in range(n_steps):
        np.multiply(D, -beta[:, None], out=P)
        np.exp(P, out=P)
        P *= off
        row = np.maximum(P.sum(axis=1), _EPS)
        P /= row[:, None]
        entropy = np.log(row) + beta * np.einsum("ij,ij->i", D, P)
        diff = entropy - target
        done = np.abs(diff) <= tol
        if done.all():
            break
        up = (diff > 0) & ~done           # too flat: raise beta
        down = (diff < 0) & ~done
        lo = np.where(up, beta, lo)
        hi = np.where(down, beta, hi)
        beta = np.where(up, np.where(np.isinf(hi), beta * 2.0,
                                     (beta + hi) / 2.0), beta)
        beta = np.where(down, np.where(np.isinf(lo), beta / 2.0,
                                       (beta + lo) / 2.0), beta)
    return P


def kl_gradient(Y: np.ndarray, P: np.ndarray, dof: float,
                compute_error: bool = True) -> tuple[float, np.ndarray]:
    """KL(P || Q) and its gradient for embedding Y (n, c); P (n, n) joint.

    The KL value costs an extra pass of logs; with ``compute_error=False``
    it is returned as NaN.
    """
    W = squared_pairwise(Y)
    if dof != 1.0:
        W /= dof
    W += 1.0
    if dof == 1.0:
        np.reciprocal(W, out=W)
    else:
        W **= -(dof + 1.0) / 2.0
    np.fill_diagonal(W, 0.0)
    Q = W * (1.0 / W.sum())
    np.maximum(Q, _EPS, out=Q)
    np.fill_diagonal(Q, 0.0)
    kl = np.nan
    if compute_error:
        kl = float(np.sum(P * np.log(np.maximum(P, _EPS)
                                     / np.maximum(Q, _EPS))))
    PQ = np.subtract(P, Q, out=Q)
    PQ *= W                                   # (p_ij - q_ij) * w_ij
    grad = (2.0 * (dof + 1.0) / dof) * (PQ.sum(axis=1)[:, None] * Y - PQ @ Y)
    return kl, grad


class TSNE(BaseEstimator):
    """Exact t-SNE, as ``sklearn.manifold.TSNE(method="exact")``.

    Affinities: Gaussian with per-point bandwidth calibrated to
    ``perplexity``, symmetrised. Optimisation: gradient descent with momentum
    (0.5 then 0.8) and per-parameter gains; the first 250 iterations multiply
    P by ``early_exaggeration``. ``learning_rate="auto"`` is
    max(n / early_exaggeration / 4, 50). ``init`` "pca" (scaled to std 1e-4),
    "random" or an array (n, n_components). O(n^2) memory and time per
    iteration: meant for up to a few thousand points.

    Fitted attributes: ``embedding_`` (n, n_components), ``kl_divergence_``,
    ``n_iter_``, ``learning_rate_``, ``n_features_in_``.
    """

    _EXPLORATION_ITER = 250

    def __init__(self, n_components: int = 2, perplexity: float = 30.0,
                 early_exaggeration: float = 12.0, learning_rate="auto",
                 max_iter: int = 1000, n_iter_without_progress: int = 300,
                 min_grad_norm: float = 1e-7, init="pca", random_state=None):
        self.n_components = n_components
        self.perplexity = perplexity
        self.early_exaggeration = early_exaggeration
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.n_iter_without_progress = n_iter_without_progress
        self.min_grad_norm = min_grad_norm
        self.init = init
        self.random_state = random_state

    def _check_params(self, n: int):
        check_positive(self.n_components, "n_components", integer=True)
        check_positive(self.perplexity, "perplexity")
        if self.perplexity >= n:
            raise ValueError(f"perplexity ({self.perplexity}) must be less "
                             f"than n_samples ({n}).")
        check_positive(self.early_exaggeration, "early_exaggeration")
        if not (isinstance(self.max_iter, numbers.Integral)
                and self.max_iter >= self._EXPLORATION_ITER):
            raise ValueError(f"max_iter must be an int >= "
                             f"{self._EXPLORATION_ITER}, got {self.max_iter!r}.")
        if self.learning_rate == "auto":
            return max(n / self.early_exaggeration / 4.0, 50.0)
        check_positive(self.learning_rate, "learning_rate")
        return float(self.learning_rate)

    def _initial_embedding(self, X, rng):
        n, c = X.shape[0], self.n_components
        if isinstance(self.init, str) and self.init == "pca":
            if c > min(X.shape):
                raise ValueError("init='pca' needs n_components <= "
                                 "min(n_samples, n_features).")
            Y = PCA(n_components=c).fit_transform(X)
            return Y / np.std(Y[:, 0]) * 1e-4
        if isinstance(self.init, str) and self.init == "random":
            return 1e-4 * rng.standard_normal((n, c))
        if isinstance(self.init, str):
            raise ValueError(f"init must be 'pca', 'random' or an array, got "
                             f"{self.init!r}.")
        Y = np.asarray(self.init, dtype=np.float64)
        if Y.shape != (n, c):
            raise ValueError(f"init array has shape {Y.shape}, expected "
                             f"{(n, c)}.")
        return Y.copy()

    def fit_transform(self, X, y=None) -> np.ndarray:
        """Embed X (n, d); returns ``embedding_`` (n, n_components)."""
        X = self._validate_X(X, reset=True, min_samples=2)
        n = X.shape[0]
        self.learning_rate_ = self._check_params(n)
        rng = check_random_state(self.random_state)
        cond = conditional_probabilities(squared_pairwise(X),
                                         float(self.perplexity))
        P = cond + cond.T
        P = np.maximum(P / max(P.sum(), _EPS), _EPS)
        np.fill_diagonal(P, 0.0)
        Y = self._initial_embedding(X, rng)
        dof = max(self.n_components - 1, 1)
        P *= self.early_exaggeration
        Y, kl, it = self._descend(Y, P, dof, 0, self._EXPLORATION_ITER, 0.5)
        P /= self.early_exaggeration
        if it + 1 < self.max_iter:
            Y, kl, it = self._descend(Y, P, dof, it + 1, int(self.max_iter),
                                      0.8)
        self.embedding_ = Y
        self.kl_divergence_ = kl
        self.n_iter_ = it
        return Y

    def fit(self, X, y=None):
        """Embed X (n, d); the result is in ``embedding_``."""
        self.fit_transform(X)
        return self

    def _descend(self, Y, P, dof, start, stop, momentum):
        """Gradient descent with momentum and per-coordinate gains.

        Runs iterations ``start`` to ``stop - 1``; each stage starts with zero
        velocity and unit gains, as in scikit-learn.
        """
        update, gains = np.zeros_like(Y), np.ones_like(Y)
        lr = self.learning_rate_
        best_error, best_iter = np.inf, start
        kl, it = np.inf, start
        for it in range(start, stop):
            check = (it + 1) % 50 == 0 or it == stop - 1
            error, grad = kl_gradient(Y, P, dof, compute_error=check)
            if check:
                kl = error
            inc = update * grad < 0.0
            gains[inc] += 0.2
            gains[~inc] *= 0.8
            np.maximum(gains, 0.01, out=gains)
            grad *= gains
            update *= momentum
            update -= lr * grad
            Y += update
            if check:
                if kl < best_error:
                    best_error, best_iter = kl, it
                elif it - best_iter > self.n_iter_without_progress:
                    break
                if np.linalg.norm(grad) < self.min_grad_norm:
                    break
        return Y, kl, it
