"""Kernel support vector classifier trained by SMO, one-vs-one for multiclass."""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from ..base import (
    BaseEstimator,
    ClassifierMixin,
    NotFittedError,
    check_classification_targets,
    check_positive,
    check_random_state,
    check_X_y,
)
from .kernels import KERNELS, kernel_matrix
from .platt import couple, fit_sigmoid, sigmoid_predict
from .smo import smo_solve


class SVC(ClassifierMixin, BaseEstimator):
    """C-support vector classifier, as ``sklearn.svm.SVC``.

    One binary SVM per pair of classes (one-vs-one, as libsvm), each solved
    by SMO with second-order working-set selection on a precomputed kernel
    matrix. ``predict`` takes the pairwise majority vote.

    Parameters: ``C``; ``kernel`` "rbf", "poly", "linear" or "sigmoid";
    ``degree`` (poly); ``gamma`` "scale" = 1 / (d * X.var()), "auto" = 1 / d,
    or a float; ``coef0`` (poly, sigmoid); ``tol`` on the KKT violation;
    ``max_iter`` per binary problem (-1: no limit); ``probability`` fits
    Platt sigmoids on 5-fold cross-validated decision values (five extra fits
    per pair) for ``predict_proba``; ``decision_function_shape`` "ovr" or
    "ovo"; ``random_state`` seeds the folds.

    Fitted attributes: ``classes_`` (k,), ``support_`` (n_SV,) training
    indices, ``support_vectors_`` (n_SV, d), ``n_support_`` (k,),
    ``dual_coef_`` (k-1, n_SV), ``intercept_`` (k(k-1)/2,), ``n_iter_``
    (k(k-1)/2,), ``probA_``/``probB_`` with ``probability=True``,
    ``n_features_in_``. Memory: the n x n kernel matrix of the training set.
    """

    def __init__(self, C: float = 1.0, kernel: str = "rbf", degree: int = 3,
                 gamma="scale", coef0: float = 0.0, tol: float = 1e-3,
                 max_iter: int = -1, probability: bool = False,
                 decision_function_shape: str = "ovr", random_state=None):
        self.C = C
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.tol = tol
        self.max_iter = max_iter
        self.probability = probability
        self.decision_function_shape = decision_function_shape
        self.random_state = random_state

    # ----------------------------------------------------------------- fit
    def _check_params(self, X):
        check_positive(self.C, "C")
        check_positive(self.tol, "tol")
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got "
                             f"{self.kernel!r}.")
        if not (isinstance(self.degree, numbers.Integral) and self.degree >= 0):
            raise ValueError(f"degree must be an int >= 0, got {self.degree!r}.")
        if self.decision_function_shape not in ("ovr", "ovo"):
            raise ValueError("decision_function_shape must be 'ovr' or 'ovo'.")
        if self.gamma == "scale":
            var = X.var()
            gamma = 1.0 / (X.shape[1] * var) if var > 0 else 1.0
        elif self.gamma == "auto":
            gamma = 1.0 / X.shape[1]
        else:
            check_positive(self.gamma, "gamma")
            gamma = float(self.gamma)
        return gamma

    def _kernel(self, A, B):
        return kernel_matrix(A, B, self.kernel, self._gamma, self.degree,
                             float(self.coef0))

    def _solve(self, K, yy):
        max_iter = None if self.max_iter is None or self.max_iter < 0 \
            else int(self.max_iter)
        alpha, rho, it, ok = smo_solve(K, yy, float(self.C), float(self.tol),
                                       max_iter)
        if not ok:
            warnings.warn(f"SVC solver stopped after max_iter={self.max_iter}"
                          " iterations before converging.", RuntimeWarning,
                          stacklevel=2)
        return alpha, rho, it

    def fit(self, X, y):
        """X: (n, d); y: (n,) labels with at least two classes."""
        X, y = check_X_y(X, y, estimator=self)
        self._check_n_features(X, reset=True)
        self._gamma = self._check_params(X)
        self.classes_, y_enc = check_classification_targets(y)
        k = len(self.classes_)
        if k < 2:
            raise ValueError("The number of classes has to be greater than "
                             "one; got 1 class.")
        K = self._kernel(X, X)
        rng = check_random_state(self.random_state)
        members = [np.flatnonzero(y_enc == c) for c in range(k)]
        pair_alpha, rho, iters, prob_a, prob_b = [], [], [], [], []
        for a in range(k):
            for b in range(a + 1, k):
                idx = np.concatenate([members[a], members[b]])
                yy = np.where(y_enc[idx] == a, 1.0, -1.0)
                Ksub = K[np.ix_(idx, idx)]
                alpha, r, it = self._solve(Ksub, yy)
                pair_alpha.append((idx, alpha * yy))
                rho.append(r)
                iters.append(it)
                if self.probability:
                    A, B = self._cv_sigmoid(Ksub, yy, rng)
                    prob_a.append(A)
                    prob_b.append(B)
        self._pack(X, y_enc, pair_alpha, np.array(rho))
        self.n_iter_ = np.array(iters)
        if self.probability:
            self.probA_, self.probB_ = np.array(prob_a), np.array(prob_b)
        return self

    def _pack(self, X, y_enc, pair_alpha, rho):
        """Gather support vectors by class and lay out dual_coef_ as libsvm."""
        k = len(self.classes_)
        is_sv = np.zeros(X.shape[0], dtype=bool)
        for idx, coef in pair_alpha:
            is_sv[idx[coef != 0]] = True
        sv = np.flatnonzero(is_sv)
        sv = sv[np.argsort(y_enc[sv], kind="stable")]
        pos = np.full(X.shape[0], -1)
        pos[sv] = np.arange(sv.size)
        dual = np.zeros((k - 1, sv.size))
        p = 0
        for a in range(k):
            for b in range(a + 1, k):
                idx, coef = pair_alpha[p]
                nz = coef != 0
                rows = np.where(y_enc[idx[nz]] == a, b - 1, a)
                dual[rows, pos[idx[nz]]] = coef[nz]
                p += 1
        self.support_ = sv
        self.support_vectors_ = X[sv]
        self.n_support_ = np.bincount(y_enc[sv], minlength=k).astype(np.int32)
        self._dual_coef = dual
        self._intercept = -rho
        sign = -1.0 if k == 2 else 1.0   # sklearn flips the binary case
        self.dual_coef_ = sign * dual
        self.intercept_ = sign * self._intercept

    def _cv_sigmoid(self, K, yy, rng, n_folds: int = 5):
        """Platt (A, B) from 5-fold cross-validated decision values."""
        n = yy.size
        perm = rng.permutation(n)
        dec = np.zeros(n)
        for f in range(n_folds):
            test = perm[f * n // n_folds:(f + 1) * n // n_folds]
            train = np.setdiff1d(perm, test, assume_unique=True)
            ytr = yy[train]
            if (ytr > 0).all() or (ytr < 0).all():
                dec[test] = 1.0 if ytr[0] > 0 else -1.0
                continue
            alpha, r, _ = self._solve(K[np.ix_(train, train)], ytr)
            dec[test] = K[np.ix_(test, train)] @ (alpha * ytr) - r
        return fit_sigmoid(dec, yy > 0)

    # ------------------------------------------------------------- predict
    def _pairwise_decision(self, X) -> np.ndarray:
        """libsvm pair decisions (n, k(k-1)/2); > 0 favours the lower class."""
        X = self._validate_X(X)
        Kx = self._kernel(X, self.support_vectors_)
        k = len(self.classes_)
        start = np.concatenate([[0], np.cumsum(self.n_support_)])
        out = np.empty((X.shape[0], k * (k - 1) // 2))
        p = 0
        for a in range(k):
            sa = slice(start[a], start[a + 1])
            for b in range(a + 1, k):
                sb = slice(start[b], start[b + 1])
                out[:, p] = (Kx[:, sa] @ self._dual_coef[b - 1, sa]
                             + Kx[:, sb] @ self._dual_coef[a, sb]
                             + self._intercept[p])
                p += 1
        return out

    def _votes(self, dec: np.ndarray) -> np.ndarray:
        k = len(self.classes_)
        votes = np.zeros((dec.shape[0], k))
        conf = np.zeros((dec.shape[0], k))
        p = 0
        for a in range(k):
            for b in range(a + 1, k):
                win_a = dec[:, p] > 0
                votes[:, a] += win_a
                votes[:, b] += ~win_a
                conf[:, a] += dec[:, p]
                conf[:, b] -= dec[:, p]
                p += 1
        return votes, conf

    def decision_function(self, X) -> np.ndarray:
        """X: (n, d) -> (n,) for two classes (> 0 means ``classes_[1]``);
        otherwise (n, k) one-vs-rest scores (votes plus scaled confidence),
        or (n, k(k-1)/2) pairwise values with ``"ovo"``."""
        dec = self._pairwise_decision(X)
        if len(self.classes_) == 2:
            return -dec[:, 0]
        if self.decision_function_shape == "ovo":
            return dec
        votes, conf = self._votes(dec)
        return votes + conf / (3.0 * (np.abs(conf) + 1.0))

    def predict(self, X) -> np.ndarray:
        """X: (n, d) -> labels (n,) by one-vs-one majority vote."""
        votes, _ = self._votes(self._pairwise_decision(X))
        return self.classes_[votes.argmax(axis=1)]

    def predict_proba(self, X) -> np.ndarray:
        """X: (n, d) -> class probabilities (n, k); needs ``probability=True``."""
        if not self.probability:
            raise AttributeError("predict_proba is not available when "
                                 "probability=False; refit with "
                                 "SVC(probability=True).")
        if not hasattr(self, "probA_"):
            raise NotFittedError("This SVC instance is not fitted yet. Call "
                                 "'fit' before 'predict_proba'.")
        dec = self._pairwise_decision(X)
        r = sigmoid_predict(dec, self.probA_[None, :], self.probB_[None, :])
        return couple(r, len(self.classes_))
