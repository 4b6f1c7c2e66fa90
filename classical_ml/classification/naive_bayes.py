"""Naive Bayes classifiers: Gaussian and multinomial likelihoods."""
from __future__ import annotations

import numpy as np

from corenn.utils.math_utils import logsumexp

from ..base import BaseEstimator, ClassifierMixin, check_classification_targets, check_positive, check_X_y


class _BaseNB(ClassifierMixin, BaseEstimator):
    """Posterior from ``_joint_log_likelihood`` (n, k) = log p(x, c)."""

    def _setup(self, X, y, **kw):
        X, y = check_X_y(X, y, estimator=self, **kw)
        self._check_n_features(X, reset=True)
        self.classes_, y_enc = check_classification_targets(y)
        Y = np.eye(len(self.classes_))[y_enc]
        self.class_count_ = Y.sum(axis=0)
        return X, Y

    def _priors(self, given):
        if given is None:
            return self.class_count_ / self.class_count_.sum()
        priors = np.asarray(given, dtype=np.float64)
        if priors.shape != (len(self.classes_),):
            raise ValueError("Number of priors must match number of classes.")
        if (priors < 0).any() or not np.isclose(priors.sum(), 1.0):
            raise ValueError("Priors must be non-negative and sum to 1.")
        return priors

    def predict_log_proba(self, X) -> np.ndarray:
        """X: (n, d) -> log posterior (n, k)."""
        jll = self._joint_log_likelihood(X)
        return jll - logsumexp(jll, axis=1)[:, None]

    def predict_proba(self, X) -> np.ndarray:
        """X: (n, d) -> posterior probabilities (n, k)."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X) -> np.ndarray:
        """X: (n, d) -> labels (n,)."""
        idx = self._joint_log_likelihood(X).argmax(axis=1)
        return self.classes_[idx]


class GaussianNB(_BaseNB):
    """Gaussian naive Bayes, as ``sklearn.naive_bayes.GaussianNB``.

    Each feature is normal within a class. ``var_smoothing`` times the
    largest feature variance is added to every variance.

    Fitted attributes: ``classes_`` (k,), ``class_count_`` (k,),
    ``class_prior_`` (k,), ``theta_`` (k, d) means, ``var_`` (k, d),
    ``epsilon_``, ``n_features_in_``.
    """

    def __init__(self, priors=None, var_smoothing: float = 1e-9):
        self.priors = priors
        self.var_smoothing = var_smoothing

    def fit(self, X, y):
        """X: (n, d); y: (n,) labels."""
        check_positive(self.var_smoothing, "var_smoothing", strict=False)
        X, Y = self._setup(X, y)
        self.epsilon_ = float(self.var_smoothing * X.var(axis=0).max())
        count = self.class_count_[:, None]
        self.theta_ = Y.T @ X / count
        self.var_ = Y.T @ (X - Y @ self.theta_) ** 2 / count
        self.var_ += self.epsilon_
        if self.epsilon_ == 0.0 and (self.var_ == 0).any():
            self.var_ += 1e-300
        self.class_prior_ = self._priors(self.priors)
        return self

    def _joint_log_likelihood(self, X) -> np.ndarray:
        X = self._validate_X(X)
        quad = np.column_stack([((X - mu) ** 2 / var).sum(axis=1)
                                for mu, var in zip(self.theta_, self.var_)])
        norm = -0.5 * np.sum(np.log(2.0 * np.pi * self.var_), axis=1)
        with np.errstate(divide="ignore"):
            log_prior = np.log(self.class_prior_)
        return log_prior + norm - 0.5 * quad


class MultinomialNB(_BaseNB):
    """Multinomial naive Bayes for counts, as ``sklearn.naive_bayes.MultinomialNB``.

    ``alpha`` is additive (Laplace/Lidstone) smoothing; ``fit_prior=False``
    uses uniform class priors; ``class_prior`` fixes them.
    X must be non-negative (counts or frequencies).

    Fitted attributes: ``classes_``, ``class_count_`` (k,),
    ``class_log_prior_`` (k,), ``feature_count_`` (k, d),
    ``feature_log_prob_`` (k, d), ``n_features_in_``.
    """

    def __init__(self, alpha: float = 1.0, fit_prior: bool = True,
                 class_prior=None):
        self.alpha = alpha
        self.fit_prior = fit_prior
        self.class_prior = class_prior

    def fit(self, X, y):
        """X: (n, d) non-negative counts; y: (n,) labels."""
        check_positive(self.alpha, "alpha", strict=False)
        X, Y = self._setup(X, y, non_negative=True)
        self.feature_count_ = Y.T @ X
        smoothed = self.feature_count_ + max(float(self.alpha), 1e-10)
        self.feature_log_prob_ = np.log(smoothed) - np.log(
            smoothed.sum(axis=1, keepdims=True))
        k = len(self.classes_)
        if self.class_prior is not None:
            prior = self._priors(self.class_prior)
        elif self.fit_prior:
            prior = self.class_count_ / self.class_count_.sum()
        else:
            prior = np.full(k, 1.0 / k)
        with np.errstate(divide="ignore"):
            self.class_log_prior_ = np.log(prior)
        return self

    def _joint_log_likelihood(self, X) -> np.ndarray:
        X = self._validate_X(X, non_negative=True)
        return X @ self.feature_log_prob_.T + self.class_log_prior_
