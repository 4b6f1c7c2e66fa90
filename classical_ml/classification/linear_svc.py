"""Linear support vector classifier: squared hinge loss, primal Newton solver."""
from __future__ import annotations

import warnings

import numpy as np

from ..base import check_classification_targets, check_positive, check_X_y
from ._linear_classifier import LinearClassifier


class LinearSVC(LinearClassifier):
    """Linear SVM, as ``sklearn.svm.LinearSVC`` (``loss="squared_hinge"``).

    For each class (one-vs-rest; a single problem for two classes) minimises
    ``0.5 * ||w||^2 + C * sum_i max(0, 1 - y_i * w.x_i)^2`` by a generalised
    Newton method with backtracking line search. As in liblinear the bias is
    a feature of constant value ``intercept_scaling`` and is penalised too.

    Fitted attributes: ``classes_`` (k,), ``coef_`` (1, d) or (k, d),
    ``intercept_`` (1,) or (k,), ``n_iter_`` (max over problems),
    ``n_features_in_``.
    """

    def __init__(self, penalty: str = "l2", loss: str = "squared_hinge",
                 C: float = 1.0, fit_intercept: bool = True,
                 intercept_scaling: float = 1.0, tol: float = 1e-4,
                 max_iter: int = 1000):
        self.penalty = penalty
        self.loss = loss
        self.C = C
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X, y):
        """X: (n, d); y: (n,) labels."""
        if self.penalty != "l2" or self.loss != "squared_hinge":
            raise ValueError("Only penalty='l2' with loss='squared_hinge' is "
                             f"supported, got penalty={self.penalty!r}, "
                             f"loss={self.loss!r}.")
        check_positive(self.C, "C")
        check_positive(self.max_iter, "max_iter", integer=True)
        X, y = check_X_y(X, y, estimator=self)
        self._check_n_features(X, reset=True)
        self.classes_, y_enc = check_classification_targets(y)
        k = len(self.classes_)
        if k < 2:
            raise ValueError("The number of classes has to be greater than "
                             f"one; got {k} class.")
        n, d = X.shape
        if self.fit_intercept:
            Xb = np.hstack([X, np.full((n, 1), float(self.intercept_scaling))])
        else:
            Xb = X
        targets = [1] if k == 2 else range(k)
        W = np.empty((len(targets), Xb.shape[1]))
        n_iters = []
        for row, cls in enumerate(targets):
            yy = np.where(y_enc == cls, 1.0, -1.0)
            W[row], it = self._newton(Xb, yy)
            n_iters.append(it)
        self.n_iter_ = int(max(n_iters))
        self.coef_ = W[:, :d].copy()
        if self.fit_intercept:
            self.intercept_ = W[:, d] * float(self.intercept_scaling)
        else:
            self.intercept_ = np.zeros(len(targets))
        return self

    def _newton(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, int]:
        """Minimise the primal for labels y in {-1, +1}; X: (n, p)."""
        C = float(self.C)
        p = X.shape[1]
        w = np.zeros(p)

        def objective(w):
            margin = 1.0 - y * (X @ w)
            act = margin > 0
            return 0.5 * w @ w + C * np.sum(margin[act] ** 2), act

        f, act = objective(w)
        g0 = None
        for it in range(1, self.max_iter + 1):
            Xa = X[act]
            g = w + 2.0 * C * Xa.T @ (Xa @ w - y[act])
            gnorm = np.linalg.norm(g)
            if g0 is None:
                g0 = max(gnorm, 1e-12)
            if gnorm <= self.tol * g0:
                return w, it - 1
            H = 2.0 * C * Xa.T @ Xa
            H[np.diag_indices_from(H)] += 1.0
            step_dir = -np.linalg.solve(H, g)
            slope = g @ step_dir
            step = 1.0
            for _ in range(30):
                w_new = w + step * step_dir
                f_new, act_new = objective(w_new)
                if f_new <= f + 1e-4 * step * slope:
                    break
                step *= 0.5
            w, f, act = w_new, f_new, act_new
            if abs(step * slope) < 1e-14 * max(abs(f), 1.0):
                return w, it
        warnings.warn("LinearSVC did not converge; increase max_iter.",
                      RuntimeWarning, stacklevel=2)
        return w, self.max_iter
