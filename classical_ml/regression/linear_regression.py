"""Ordinary least squares: closed form (SVD least squares) or gradient descent."""
from __future__ import annotations

import numpy as np

from ..base import check_positive
from ._linear_base import LinearModel


class LinearRegression(LinearModel):
    """Least-squares linear regression, as ``sklearn.linear_model.LinearRegression``.

    Parameters
    ----------
    fit_intercept : fit an unpenalised bias term.
    solver : ``"closed_form"`` (minimum-norm least squares via SVD) or
        ``"gd"`` (full-batch gradient descent on the mean squared error).
    learning_rate : step for ``"gd"``; ``"auto"`` uses 1/L, L the largest
        eigenvalue of X^T X / n (found by power iteration).
    max_iter, tol : ``"gd"`` stops after ``max_iter`` steps or when the
        largest absolute gradient entry is below ``tol``.

    Fitted attributes: ``coef_`` (d,) or (k, d), ``intercept_`` float or (k,),
    ``n_features_in_``, ``n_iter_`` (``"gd"`` only; 0 for closed form).
    """

    def __init__(self, fit_intercept: bool = True, solver: str = "closed_form",
                 learning_rate="auto", max_iter: int = 10000,
                 tol: float = 1e-8):
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X, y, sample_weight=None):
        """X: (n, d); y: (n,) or (n, k); sample_weight: (n,) or None."""
        if self.solver not in ("closed_form", "gd"):
            raise ValueError(f"solver must be 'closed_form' or 'gd', got "
                             f"{self.solver!r}.")
        Xc, yc, X_off, y_off = self._prepare(X, y, sample_weight)
        if self.solver == "closed_form":
            coef, *_ = np.linalg.lstsq(Xc, yc, rcond=None)
            self.n_iter_ = 0
        else:
            coef = self._gradient_descent(Xc, yc)
        self._set_intercept(coef, X_off, y_off)
        return self

    def _gradient_descent(self, Xc: np.ndarray, yc: np.ndarray) -> np.ndarray:
        check_positive(self.max_iter, "max_iter", integer=True)
        n = Xc.shape[0]
        if self.learning_rate == "auto":
            lr = 1.0 / max(_top_eigenvalue(Xc) / n, 1e-12)
        else:
            check_positive(self.learning_rate, "learning_rate")
            lr = float(self.learning_rate)
        coef = np.zeros((Xc.shape[1],) + yc.shape[1:])
        XtX = Xc.T @ Xc / n
        Xty = Xc.T @ yc / n
        it = 0
        while it < self.max_iter:
            it += 1
            grad = XtX @ coef - Xty          # gradient of 0.5 * MSE
            if not np.isfinite(grad).all():
                raise ValueError("Gradient descent diverged; lower "
                                 "learning_rate or scale the features.")
            coef -= lr * grad
            if np.max(np.abs(grad)) < self.tol:
                break
        self.n_iter_ = it
        return coef


def _top_eigenvalue(A: np.ndarray, n_iter: int = 50) -> float:
    """Largest eigenvalue of A^T A by power iteration; A: (n, d)."""
    v = np.ones(A.shape[1]) / np.sqrt(A.shape[1])
    lam = 0.0
    for _ in range(n_iter):
        w = A.T @ (A @ v)
        lam = float(np.linalg.norm(w))
        if lam == 0.0:
            return 0.0
        v = w / lam
    return lam * 1.01  # small safety margin: power iteration underestimates
