"""Random forests: bagged CART trees with per-split feature subsampling."""
from __future__ import annotations

import numpy as np

from ..base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    check_classification_targets,
    check_positive,
    check_random_state,
    check_X_y,
)
from ..tree import DecisionTreeClassifier, DecisionTreeRegressor


class BaseForest(BaseEstimator):
    """Bootstrap sampling and tree fitting shared by both forests."""

    _tree_cls: type = DecisionTreeClassifier

    def _fit_trees(self, X, target, *extra):
        check_positive(self.n_estimators, "n_estimators", integer=True)
        rng = check_random_state(self.random_state)
        n = X.shape[0]
        seeds = rng.integers(0, 2**31 - 1, size=self.n_estimators)
        self.estimators_ = []
        for seed in seeds:
            tree = self._tree_cls(
                criterion=self.criterion, max_depth=self.max_depth,
                min_samples_split=self.min_samples_split,
                min_samples_leaf=self.min_samples_leaf,
                max_features=self.max_features,
                min_impurity_decrease=self.min_impurity_decrease,
                random_state=int(seed))
            if self.bootstrap:
                rows = np.random.default_rng(int(seed) + 1).integers(0, n, n)
                tree._fit_encoded(X[rows], target[rows], *extra)
            else:
                tree._fit_encoded(X, target, *extra)
            self.estimators_.append(tree)
        imps = np.mean([t.feature_importances_ for t in self.estimators_],
                       axis=0)
        total = imps.sum()
        self.feature_importances_ = imps / total if total > 0 else imps

    def _mean_tree_value(self, X) -> np.ndarray:
        """Validated X (n, d) -> mean leaf value over trees (n, n_outputs)."""
        X = self._validate_X(X)
        out = np.zeros((X.shape[0], self.estimators_[0].tree_.value.shape[1]))
        for tree in self.estimators_:
            out += tree.tree_.predict(X)
        return out / len(self.estimators_)

    def apply(self, X) -> np.ndarray:
        """X: (n, d) -> leaf id per sample and tree, (n, n_estimators)."""
        X = self._validate_X(X)
        return np.column_stack([t.tree_.apply(X) for t in self.estimators_])


class RandomForestClassifier(ClassifierMixin, BaseForest):
    """Random forest classifier, as ``sklearn.ensemble.RandomForestClassifier``.

    ``n_estimators`` CART trees, each grown on a bootstrap sample
    (``bootstrap=True``) and trying ``max_features`` random features per
    split; tree parameters (``criterion``, ``max_depth``,
    ``min_samples_split``, ``min_samples_leaf``, ``min_impurity_decrease``)
    as in ``DecisionTreeClassifier``. Predicts the argmax of the trees'
    mean class probabilities.

    Fitted attributes: ``estimators_`` (list of trees), ``classes_`` (k,),
    ``n_classes_``, ``feature_importances_`` (d,), ``n_features_in_``.
    """

    _tree_cls = DecisionTreeClassifier

    def __init__(self, n_estimators: int = 100, criterion: str = "gini",
                 max_depth=None, min_samples_split=2, min_samples_leaf=1,
                 max_features="sqrt", min_impurity_decrease: float = 0.0,
                 bootstrap: bool = True, random_state=None):
        self.n_estimators = n_estimators
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.min_impurity_decrease = min_impurity_decrease
        self.bootstrap = bootstrap
        self.random_state = random_state

    def fit(self, X, y):
        """X: (n, d); y: (n,) labels."""
        X, y = check_X_y(X, y, estimator=self)
        self._check_n_features(X, reset=True)
        self.classes_, y_enc = check_classification_targets(y)
        self.n_classes_ = len(self.classes_)
        self._fit_trees(X, y_enc, self.classes_)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """X: (n, d) -> mean tree class probabilities (n, k)."""
        return self._mean_tree_value(X)

    def predict(self, X) -> np.ndarray:
        """X: (n, d) -> labels (n,)."""
        idx = self.predict_proba(X).argmax(axis=1)
        return self.classes_[idx]


class RandomForestRegressor(RegressorMixin, BaseForest):
    """Random forest regressor, as ``sklearn.ensemble.RandomForestRegressor``.

    Parameters as ``RandomForestClassifier`` with the squared-error
    criterion; ``max_features=1.0`` (all features) by default, as in
    scikit-learn. Predicts the mean of the trees' predictions.

    Fitted attributes: ``estimators_``, ``feature_importances_`` (d,),
    ``n_features_in_``.
    """

    _tree_cls = DecisionTreeRegressor

    def __init__(self, n_estimators: int = 100,
                 criterion: str = "squared_error", max_depth=None,
                 min_samples_split=2, min_samples_leaf=1, max_features=1.0,
                 min_impurity_decrease: float = 0.0, bootstrap: bool = True,
                 random_state=None):
        self.n_estimators = n_estimators
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.min_impurity_decrease = min_impurity_decrease
        self.bootstrap = bootstrap
        self.random_state = random_state

    def fit(self, X, y):
        """X: (n, d); y: (n,) real targets."""
        X, y = check_X_y(X, y, estimator=self, y_numeric=True)
        self._check_n_features(X, reset=True)
        self._fit_trees(X, y)
        return self

    def predict(self, X) -> np.ndarray:
        """X: (n, d) -> predicted targets (n,)."""
        return self._mean_tree_value(X)[:, 0]
