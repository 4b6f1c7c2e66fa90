"""Shared prediction code for linear classifiers (``coef_``, ``intercept_``)."""
from __future__ import annotations

import numpy as np

from ..base import BaseEstimator, ClassifierMixin


class LinearClassifier(ClassifierMixin, BaseEstimator):
    """Base: scores ``X @ coef_.T + intercept_``; argmax (or sign) predicts."""

    def decision_function(self, X) -> np.ndarray:
        """X: (n, d) -> scores (n,) for two classes, else (n, n_classes)."""
        X = self._validate_X(X)
        scores = X @ self.coef_.T + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X) -> np.ndarray:
        """X: (n, d) -> labels (n,) drawn from ``classes_``."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            idx = (scores > 0).astype(np.intp)
        else:
            idx = scores.argmax(axis=1)
        return self.classes_[idx]
