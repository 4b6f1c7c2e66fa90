"""Gaussian mixture model fitted by expectation-maximisation."""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from corenn.utils.math_utils import logsumexp

from ..base import BaseEstimator, check_positive, check_random_state
from .kmeans import KMeans

COV_TYPES = ("full", "tied", "diag", "spherical")


def _estimate_parameters(X, resp, reg_covar, cov_type):
    """M-step. X (n, d), resp (n, K) -> (nk (K,), means (K, d), covariances)."""
    nk = resp.sum(axis=0) + 10.0 * np.finfo(resp.dtype).eps
    means = resp.T @ X / nk[:, None]
    d = X.shape[1]
    if cov_type == "full":
        cov = np.empty((len(nk), d, d))
        for k in range(len(nk)):
            diff = X - means[k]
            cov[k] = (resp[:, k] * diff.T) @ diff / nk[k]
            cov[k].flat[::d + 1] += reg_covar
    elif cov_type == "tied":
        cov = (X.T @ X - (nk * means.T) @ means) / nk.sum()
        cov.flat[::d + 1] += reg_covar
    else:
        avg_x2 = resp.T @ (X * X) / nk[:, None]
        cov = avg_x2 - means ** 2 + reg_covar
        np.maximum(cov, reg_covar, out=cov)
        if cov_type == "spherical":
            cov = cov.mean(axis=1)
    return nk, means, cov


def _precision_cholesky(cov, cov_type):
    """Cholesky factors of the precision matrices (or 1/sqrt variances)."""
    if cov_type in ("full", "tied"):
        try:
            L = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError as exc:
            raise ValueError(
                "Fitting the mixture model failed because some components "
                "have ill-defined empirical covariance (for instance caused "
                "by singleton or collapsed samples). Try to decrease the "
                "number of components, or increase reg_covar.") from exc
        return np.swapaxes(np.linalg.inv(L), -1, -2)
    if np.any(cov <= 0.0):
        raise ValueError("Non-positive variance in a mixture component; "
                         "increase reg_covar.")
    return 1.0 / np.sqrt(cov)


def _log_gaussian_prob(X, means, prec_chol, cov_type):
    """log N(x | mean_k, cov_k) for X (n, d) -> (n, K)."""
    n, d = X.shape
    if cov_type == "full":
        Y = np.einsum("nd,kde->nke", X, prec_chol) \
            - np.einsum("kd,kde->ke", means, prec_chol)[None]
        maha = np.einsum("nke,nke->nk", Y, Y)
        log_det = np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1)
    elif cov_type == "tied":
        Y = (X @ prec_chol)[:, None, :] - (means @ prec_chol)[None]
        maha = np.einsum("nke,nke->nk", Y, Y)
        log_det = np.log(np.diag(prec_chol)).sum()
    elif cov_type == "diag":
        prec = prec_chol ** 2
        maha = (np.sum(means ** 2 * prec, axis=1) - 2.0 * X @ (means * prec).T
                + (X * X) @ prec.T)
        log_det = np.log(prec_chol).sum(axis=1)
    else:
        prec = prec_chol ** 2
        maha = (np.sum(means ** 2, axis=1) * prec - 2.0 * (X @ means.T) * prec
                + np.outer(np.einsum("ij,ij->i", X, X), prec))
        log_det = d * np.log(prec_chol)
    np.maximum(maha, 0.0, out=maha)
    return -0.5 * (d * np.log(2.0 * np.pi) + maha) + log_det


class GaussianMixture(BaseEstimator):
    """Gaussian mixture, as ``sklearn.mixture.GaussianMixture`` (EM).

    Parameters: ``n_components``; ``covariance_type`` "full", "tied",
    "diag" or "spherical"; ``tol`` on the change of the mean log-likelihood
    lower bound; ``reg_covar`` added to covariance diagonals; ``max_iter``;
    ``n_init`` restarts kept by best bound; ``init_params`` "kmeans" or
    "random" responsibilities; ``random_state``.

    Fitted attributes: ``weights_`` (K,), ``means_`` (K, d),
    ``covariances_`` ((K, d, d) full, (d, d) tied, (K, d) diag, (K,)
    spherical), ``precisions_``, ``precisions_cholesky_`` (same shapes),
    ``converged_``, ``n_iter_``, ``lower_bound_``, ``n_features_in_``.
    """

    def __init__(self, n_components: int = 1, covariance_type: str = "full",
                 tol: float = 1e-3, reg_covar: float = 1e-6,
                 max_iter: int = 100, n_init: int = 1,
                 init_params: str = "kmeans", random_state=None):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.random_state = random_state

    def _check_params(self, n_samples):
        k = self.n_components
        if not (isinstance(k, numbers.Integral) and 1 <= k <= n_samples):
            raise ValueError(f"n_components={k!r} must be an int in [1, "
                             f"n_samples={n_samples}].")
        if self.covariance_type not in COV_TYPES:
            raise ValueError(f"covariance_type must be one of {COV_TYPES}, "
                             f"got {self.covariance_type!r}.")
        if self.init_params not in ("kmeans", "random"):
            raise ValueError("init_params must be 'kmeans' or 'random', got "
                             f"{self.init_params!r}.")
        check_positive(self.tol, "tol", strict=False)
        check_positive(self.reg_covar, "reg_covar", strict=False)
        check_positive(self.max_iter, "max_iter", integer=True)
        check_positive(self.n_init, "n_init", integer=True)

    def _m_step(self, X, resp):
        nk, self.means_, self.covariances_ = _estimate_parameters(
            X, resp, float(self.reg_covar), self.covariance_type)
        self.weights_ = nk / nk.sum()
        self.precisions_cholesky_ = _precision_cholesky(
            self.covariances_, self.covariance_type)

    def _weighted_log_prob(self, X):
        return _log_gaussian_prob(X, self.means_, self.precisions_cholesky_,
                                  self.covariance_type) + np.log(self.weights_)

    def _e_step(self, X):
        wlp = self._weighted_log_prob(X)
        norm = logsumexp(wlp, axis=1)
        return float(norm.mean()), wlp - norm[:, None]

    def _initial_resp(self, X, rng):
        n, k = X.shape[0], self.n_components
        if self.init_params == "kmeans":
            seed = int(rng.integers(2**31 - 1))
            labels = KMeans(k, n_init=1, random_state=seed).fit(X).labels_
            resp = np.zeros((n, k))
            resp[np.arange(n), labels] = 1.0
        else:
            resp = rng.uniform(size=(n, k))
            resp /= resp.sum(axis=1, keepdims=True)
        return resp

    def fit(self, X, y=None):
        """X: (n, d). ``y`` is ignored."""
        self.fit_predict(X)
        return self

    def fit_predict(self, X, y=None) -> np.ndarray:
        """Fit on X (n, d) and return the component of each sample (n,)."""
        X = self._validate_X(X, reset=True, min_samples=2)
        self._check_params(X.shape[0])
        rng = check_random_state(self.random_state)
        best_bound, best = -np.inf, None
        self.converged_ = False
        for _ in range(int(self.n_init)):
            self._m_step(X, self._initial_resp(X, rng))
            bound, converged, n_iter = -np.inf, False, 0
            while n_iter < int(self.max_iter):
                n_iter += 1
                prev = bound
                bound, log_resp = self._e_step(X)
                self._m_step(X, np.exp(log_resp))
                if abs(bound - prev) < self.tol:
                    converged = True
                    break
            if bound > best_bound or best is None:
                best_bound = bound
                best = (self.weights_, self.means_, self.covariances_,
                        self.precisions_cholesky_, n_iter, converged)
        (self.weights_, self.means_, self.covariances_,
         self.precisions_cholesky_, self.n_iter_, self.converged_) = best
        if not self.converged_:
            warnings.warn("GaussianMixture did not converge; try a larger "
                          "max_iter or tol, or check the data.",
                          RuntimeWarning, stacklevel=2)
        self.lower_bound_ = best_bound
        pc = self.precisions_cholesky_
        if self.covariance_type in ("full", "tied"):
            self.precisions_ = pc @ np.swapaxes(pc, -1, -2)
        else:
            self.precisions_ = pc ** 2
        _, log_resp = self._e_step(X)
        return log_resp.argmax(axis=1)

    # -------------------------------------------------------------- scoring
    def score_samples(self, X) -> np.ndarray:
        """X: (n, d) -> log p(x) per sample (n,)."""
        return logsumexp(self._weighted_log_prob(self._validate_X(X)), axis=1)

    def score(self, X, y=None) -> float:
        """Mean log-likelihood of X (n, d)."""
        return float(self.score_samples(X).mean())

    def predict_proba(self, X) -> np.ndarray:
        """X: (n, d) -> component responsibilities (n, K)."""
        wlp = self._weighted_log_prob(self._validate_X(X))
        return np.exp(wlp - logsumexp(wlp, axis=1)[:, None])

    def predict(self, X) -> np.ndarray:
        """X: (n, d) -> most probable component (n,)."""
        return self._weighted_log_prob(self._validate_X(X)).argmax(axis=1)

    def _n_parameters(self) -> int:
        k, d = self.means_.shape
        cov = {"full": k * d * (d + 1) / 2, "tied": d * (d + 1) / 2,
               "diag": k * d, "spherical": k}[self.covariance_type]
        return int(cov + k * d + k - 1)

    def bic(self, X) -> float:
        """Bayesian information criterion on X (n, d); lower is better."""
        X = self._validate_X(X)
        return (-2.0 * self.score(X) * X.shape[0]
                + self._n_parameters() * np.log(X.shape[0]))

    def aic(self, X) -> float:
        """Akaike information criterion on X (n, d); lower is better."""
        X = self._validate_X(X)
        return -2.0 * self.score(X) * X.shape[0] + 2.0 * self._n_parameters()

    def sample(self, n_samples: int = 1, random_state=None):
        """Draw (X (n_samples, d), component labels (n_samples,))."""
        self._validate_X(np.zeros((1, self.n_features_in_)))
        check_positive(n_samples, "n_samples", integer=True)
        rng = check_random_state(random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        d = self.means_.shape[1]
        parts = []
        for k, c in enumerate(counts):
            z = rng.standard_normal((c, d))
            if self.covariance_type == "full":
                parts.append(self.means_[k] + z @ np.linalg.cholesky(
                    self.covariances_[k]).T)
            elif self.covariance_type == "tied":
                parts.append(self.means_[k] + z @ np.linalg.cholesky(
                    self.covariances_).T)
            else:
                parts.append(self.means_[k] + z * np.sqrt(
                    self.covariances_[k]))
        labels = np.repeat(np.arange(len(counts)), counts)
        return np.vstack(parts), labels
