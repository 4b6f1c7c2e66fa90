"""CART decision trees for classification and regression."""
from __future__ import annotations

import numbers

import numpy as np

from ..base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    check_classification_targets,
    check_random_state,
    check_X_y,
)
from .cart import _max_features, grow_tree


class BaseDecisionTree(BaseEstimator):
    """Shared hyperparameter checks, fitting and leaf lookup."""

    _criteria: tuple = ()

    def _check_params(self, n_samples: int):
        if self.criterion not in self._criteria:
            raise ValueError(f"criterion must be one of {self._criteria}, "
                             f"got {self.criterion!r}.")
        if self.max_depth is not None and not (
                isinstance(self.max_depth, numbers.Integral)
                and self.max_depth >= 1):
            raise ValueError(f"max_depth must be None or an int >= 1, got "
                             f"{self.max_depth!r}.")
        mss = self.min_samples_split
        if isinstance(mss, float) and 0.0 < mss <= 1.0:
            mss = max(2, int(np.ceil(mss * n_samples)))
        if not (isinstance(mss, numbers.Integral) and mss >= 2):
            raise ValueError("min_samples_split must be an int >= 2 or a "
                             f"float in (0, 1], got {self.min_samples_split!r}.")
        msl = self.min_samples_leaf
        if isinstance(msl, float) and 0.0 < msl < 1.0:
            msl = max(1, int(np.ceil(msl * n_samples)))
        if not (isinstance(msl, numbers.Integral) and msl >= 1):
            raise ValueError("min_samples_leaf must be an int >= 1 or a "
                             f"float in (0, 1), got {self.min_samples_leaf!r}.")
        if self.min_impurity_decrease < 0:
            raise ValueError("min_impurity_decrease must be >= 0.")
        return int(mss), int(msl)

    def _grow(self, X, target, n_classes=None):
        """Grow ``tree_`` on validated X (n, d) and encoded target (n,)."""
        mss, msl = self._check_params(X.shape[0])
        crit = "entropy" if self.criterion in ("entropy", "log_loss") \
            else self.criterion
        self.max_features_ = _max_features(self.max_features, X.shape[1])
        rng = check_random_state(self.random_state)
        self.tree_, imp = grow_tree(X, target, n_classes, crit,
                                    self.max_depth, mss, msl,
                                    self.max_features_,
                                    float(self.min_impurity_decrease), rng)
        total = imp.sum()
        self.feature_importances_ = imp / total if total > 0 else imp

    def apply(self, X) -> np.ndarray:
        """X: (n, d) -> id of the leaf each sample lands in, (n,)."""
        X = self._validate_X(X)
        return self.tree_.apply(X)

    def get_depth(self) -> int:
        """Depth of the fitted tree (a lone root has depth 0)."""
        return self.tree_.max_depth

    def get_n_leaves(self) -> int:
        """Number of leaves of the fitted tree."""
        return self.tree_.n_leaves


class DecisionTreeClassifier(ClassifierMixin, BaseDecisionTree):
    """CART classifier, as ``sklearn.tree.DecisionTreeClassifier``.

    criterion: "gini" or "entropy" ("log_loss" is an alias); max_depth:
    None grows until leaves are pure or below ``min_samples_split``;
    max_features: features tried per split (None = all, "sqrt", "log2", int,
    float fraction), drawn at random per node.

    Fitted attributes: ``classes_`` (k,), ``n_classes_``, ``tree_``,
    ``feature_importances_`` (d,), ``max_features_``, ``n_features_in_``.
    """

    _criteria = ("gini", "entropy", "log_loss")

    def __init__(self, criterion: str = "gini", max_depth=None,
                 min_samples_split=2, min_samples_leaf=1, max_features=None,
                 min_impurity_decrease: float = 0.0, random_state=None):
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.min_impurity_decrease = min_impurity_decrease
        self.random_state = random_state

    def fit(self, X, y):
        """X: (n, d); y: (n,) labels."""
        X, y = check_X_y(X, y, estimator=self)
        classes, y_enc = check_classification_targets(y)
        return self._fit_encoded(X, y_enc, classes)

    def _fit_encoded(self, X, y_enc, classes):
        """Fit on validated X (n, d) and labels y_enc in 0..len(classes)-1."""
        self.classes_ = classes
        self.n_classes_ = len(classes)
        self._check_n_features(X, reset=True)
        self._grow(X, y_enc, self.n_classes_)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """X: (n, d) -> leaf class fractions (n, k), columns as ``classes_``."""
        X = self._validate_X(X)
        return self.tree_.predict(X)

    def predict_log_proba(self, X) -> np.ndarray:
        """Log of ``predict_proba``: (n, k)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """X: (n, d) -> labels (n,)."""
        idx = self.predict_proba(X).argmax(axis=1)
        return self.classes_[idx]


class DecisionTreeRegressor(RegressorMixin, BaseDecisionTree):
    """CART regressor (squared error), as ``sklearn.tree.DecisionTreeRegressor``.

    Leaves predict the mean target of their training samples. Parameters and
    fitted attributes as ``DecisionTreeClassifier`` (no ``classes_``).
    """

    _criteria = ("squared_error",)

    def __init__(self, criterion: str = "squared_error", max_depth=None,
                 min_samples_split=2, min_samples_leaf=1, max_features=None,
                 min_impurity_decrease: float = 0.0, random_state=None):
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.min_impurity_decrease = min_impurity_decrease
        self.random_state = random_state

    def fit(self, X, y):
        """X: (n, d); y: (n,) real targets."""
        X, y = check_X_y(X, y, estimator=self, y_numeric=True)
        return self._fit_encoded(X, y)

    def _fit_encoded(self, X, y):
        """Fit on validated X (n, d) and float targets y (n,)."""
        self._check_n_features(X, reset=True)
        self._grow(X, y)
        return self

    def predict(self, X) -> np.ndarray:
        """X: (n, d) -> predicted targets (n,)."""
        X = self._validate_X(X)
        return self.tree_.predict(X)[:, 0]
