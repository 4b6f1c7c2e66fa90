"""Logistic regression: binary (sigmoid) or multinomial (softmax), L2 penalty."""
from __future__ import annotations

import warnings

import numpy as np

from corenn.utils.math_utils import softmax

from ..base import check_classification_targets, check_positive, check_sample_weight, check_X_y
from ..optimize import lbfgs
from ._linear_classifier import LinearClassifier


class LogisticRegression(LinearClassifier):
    """L2-regularised logistic regression, as ``sklearn.linear_model.LogisticRegression``.

    Minimises ``C * sum_i w_i * logloss_i + 0.5 * ||coef||^2`` with L-BFGS; the
    intercept is not penalised. Two classes use one sigmoid output, more
    classes the multinomial (softmax) loss.

    Parameters: ``penalty`` ("l2" or None), ``C`` (inverse regularisation
    strength), ``fit_intercept``, ``max_iter``, ``tol`` (on the largest
    gradient entry of the per-sample-averaged objective).

    Fitted attributes: ``classes_`` (k,), ``coef_`` (1, d) for two classes or
    (k, d), ``intercept_`` (1,) or (k,), ``n_iter_`` (1,), ``n_features_in_``.
    """

    def __init__(self, penalty="l2", C: float = 1.0, fit_intercept: bool = True,
                 max_iter: int = 100, tol: float = 1e-4):
        self.penalty = penalty
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X, y, sample_weight=None):
        """X: (n, d); y: (n,) labels; sample_weight: (n,) or None."""
        if self.penalty not in ("l2", None):
            raise ValueError(f"penalty must be 'l2' or None, got "
                             f"{self.penalty!r}.")
        check_positive(self.C, "C")
        check_positive(self.max_iter, "max_iter", integer=True)
        X, y = check_X_y(X, y, estimator=self)
        self._check_n_features(X, reset=True)
        self.classes_, y_enc = check_classification_targets(y)
        k = len(self.classes_)
        if k < 2:
            raise ValueError("This solver needs samples of at least 2 "
                             f"classes in the data, but the data contains "
                             f"only one class: {self.classes_[0]!r}.")
        sw = check_sample_weight(sample_weight, X.shape[0])
        sw = sw / sw.mean()
        n, d = X.shape
        lam = 0.0 if self.penalty is None else 1.0 / (self.C * n)
        Xb = np.hstack([X, np.ones((n, 1))]) if self.fit_intercept else X
        mask = np.ones(Xb.shape[1])
        if self.fit_intercept:
            mask[-1] = 0.0  # intercept not penalised
        n_out = 1 if k == 2 else k
        if k == 2:
            t = y_enc.astype(np.float64)

            def fun_grad(w):
                z = Xb @ w
                loss = np.logaddexp(0.0, z) - t * z
                f = sw @ loss / n + 0.5 * lam * np.dot(mask * w, w)
                r = sw * (_sigmoid(z) - t) / n
                return f, Xb.T @ r + lam * mask * w
        else:
            Y = np.eye(k)[y_enc]

            def fun_grad(w):
                W = w.reshape(k, -1)
                Z = Xb @ W.T
                lse = np.logaddexp.reduce(Z, axis=1)
                f = (sw @ (lse - (Z * Y).sum(axis=1))) / n \
                    + 0.5 * lam * np.sum(mask * W * W)
                R = (softmax(Z, axis=1) - Y) * (sw / n)[:, None]
                G = R.T @ Xb + lam * mask * W
                return f, G.ravel()

        w0 = np.zeros(n_out * Xb.shape[1])
        w, _, n_iter, converged = lbfgs(fun_grad, w0, max_iter=self.max_iter,
                                        tol=self.tol)
        if not converged:
            warnings.warn(f"LogisticRegression did not converge in "
                          f"{self.max_iter} iterations; increase max_iter "
                          "or scale the data.", RuntimeWarning, stacklevel=2)
        W = w.reshape(n_out, -1)
        self.coef_ = W[:, :d].copy()
        self.intercept_ = W[:, d].copy() if self.fit_intercept \
            else np.zeros(n_out)
        self.n_iter_ = np.array([n_iter])
        return self

    def predict_proba(self, X) -> np.ndarray:
        """X: (n, d) -> class probabilities (n, k), columns as ``classes_``."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = _sigmoid(scores)
            return np.column_stack([1.0 - p, p])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X) -> np.ndarray:
        """Log of ``predict_proba``: (n, k)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out
