"""Shared pieces of the linear regressors: centring and prediction."""
from __future__ import annotations

import numpy as np

from ..base import BaseEstimator, RegressorMixin, check_sample_weight, check_X_y


class LinearModel(RegressorMixin, BaseEstimator):
    """Base for linear regressors: ``y = X @ coef_.T + intercept_``."""

    def _prepare(self, X, y, sample_weight):
        """Validate and centre; returns (Xc, yc, X_offset, y_offset, sw)."""
        X, y = check_X_y(X, y, estimator=self, y_numeric=True,
                         multi_output=True)
        self._check_n_features(X, reset=True)
        sw = check_sample_weight(sample_weight, X.shape[0])
        if self.fit_intercept:
            wsum = sw.sum()
            if wsum <= 0:
                raise ValueError("sample_weight sums to zero.")
            X_offset = sw @ X / wsum
            y_offset = sw @ y / wsum
        else:
            X_offset = np.zeros(X.shape[1])
            y_offset = np.zeros(y.shape[1:]) if y.ndim == 2 else 0.0
        root = np.sqrt(sw)
        Xc = (X - X_offset) * root[:, None]
        yc = (y - y_offset) * (root[:, None] if y.ndim == 2 else root)
        return Xc, yc, X_offset, y_offset

    def _set_intercept(self, coef, X_offset, y_offset):
        """coef: (d,) or (d, k) solution of the centred problem."""
        self.coef_ = coef.T.copy() if coef.ndim == 2 else coef.copy()
        if self.fit_intercept:
            self.intercept_ = y_offset - X_offset @ coef
        else:
            self.intercept_ = (np.zeros(coef.shape[1]) if coef.ndim == 2
                               else 0.0)
        if np.ndim(self.intercept_) == 0:
            self.intercept_ = float(self.intercept_)

    def predict(self, X) -> np.ndarray:
        """X: (n, d) -> predictions (n,) or (n, k) for k targets."""
        X = self._validate_X(X)
        return X @ self.coef_.T + self.intercept_
