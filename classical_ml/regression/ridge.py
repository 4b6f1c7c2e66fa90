"""Ridge regression: least squares with an L2 penalty, solved in closed form."""
from __future__ import annotations

import numpy as np

from ..base import check_positive
from ._linear_base import LinearModel


class Ridge(LinearModel):
    """L2-penalised least squares, as ``sklearn.linear_model.Ridge``.

    Minimises ||y - Xw - b||^2 + alpha * ||w||^2 (the intercept b is not
    penalised). Solved by Cholesky on the d x d normal equations, or on the
    n x n kernel form when d > n; ``solver="svd"`` uses the SVD of X.

    Fitted attributes: ``coef_`` (d,) or (k, d), ``intercept_``,
    ``n_features_in_``.
    """

    def __init__(self, alpha: float = 1.0, fit_intercept: bool = True,
                 solver: str = "auto"):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver

    def fit(self, X, y, sample_weight=None):
        """X: (n, d); y: (n,) or (n, k); sample_weight: (n,) or None."""
        check_positive(self.alpha, "alpha", strict=False)
        if self.solver not in ("auto", "cholesky", "svd"):
            raise ValueError(f"solver must be 'auto', 'cholesky' or 'svd', "
                             f"got {self.solver!r}.")
        Xc, yc, X_off, y_off = self._prepare(X, y, sample_weight)
        alpha = float(self.alpha)
        n, d = Xc.shape
        if self.solver == "svd" or alpha == 0.0:
            U, s, Vt = np.linalg.svd(Xc, full_matrices=False)
            keep = s > 1e-15 * max(s.max(initial=0.0), 1.0)
            d_s = np.where(keep, s / (s ** 2 + alpha + (~keep)), 0.0)
            Uty = U.T @ yc
            coef = Vt.T @ (d_s[:, None] * Uty if Uty.ndim == 2
                           else d_s * Uty)
        elif d <= n:
            A = Xc.T @ Xc
            A[np.diag_indices_from(A)] += alpha
            coef = _spd_solve(A, Xc.T @ yc)
        else:
            K = Xc @ Xc.T
            K[np.diag_indices_from(K)] += alpha
            coef = Xc.T @ _spd_solve(K, yc)
        self._set_intercept(coef, X_off, y_off)
        return self


def _spd_solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve A x = b for symmetric positive definite A via Cholesky."""
    try:
        L = np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(A, b, rcond=None)[0]
    z = np.linalg.solve(L, b)
    return np.linalg.solve(L.T, z)
