"""CART trees and random forests vs scikit-learn."""
import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn import datasets, ensemble, tree

import classical_ml as cm

from .conftest import DATASETS


@pytest.mark.parametrize("criterion", ["gini", "entropy"])
@pytest.mark.parametrize("name", DATASETS)
def test_tree_accuracy_matches_sklearn(split, name, criterion):
    # single trees are high-variance (ties are broken at random): average
    # held-out accuracy over several splits and seeds
    ours, ref = [], []
    n_max = 600 if name == "digits" else None
    for seed in range(8):
        Xtr, Xte, ytr, yte = split(name, seed=seed, standardize=False,
                                   n_max=n_max)
        ours.append(cm.DecisionTreeClassifier(criterion=criterion,
                                              random_state=seed)
                    .fit(Xtr, ytr).score(Xte, yte))
        ref.append(tree.DecisionTreeClassifier(criterion=criterion,
                                               random_state=seed)
                   .fit(Xtr, ytr).score(Xte, yte))
    assert np.mean(ours) >= np.mean(ref) - 0.02


def test_tree_splits_match_sklearn_without_ties(split):
    Xtr, _, ytr, _ = split("breast_cancer", standardize=False)
    for criterion in ("gini", "entropy"):
        ours = cm.DecisionTreeClassifier(criterion=criterion, max_depth=3,
                                         random_state=0).fit(Xtr, ytr)
        ref = tree.DecisionTreeClassifier(criterion=criterion, max_depth=3,
                                          random_state=0).fit(Xtr, ytr)
        assert ours.tree_.feature[0] == ref.tree_.feature[0]
        assert ours.tree_.threshold[0] == pytest.approx(
            ref.tree_.threshold[0], rel=1e-6)
        # deeper nodes may split on a different but equally good feature;
        # the impurity reached at every node is the same
        np.testing.assert_allclose(ours.tree_.impurity, ref.tree_.impurity,
                                   atol=1e-12)
        assert ours.score(Xtr, ytr) == pytest.approx(ref.score(Xtr, ytr))


def test_tree_hyperparameters(split):
    Xtr, _, ytr, _ = split("wine", standardize=False)
    full = cm.DecisionTreeClassifier(random_state=0).fit(Xtr, ytr)
    assert full.score(Xtr, ytr) == 1.0            # grown until pure
    shallow = cm.DecisionTreeClassifier(max_depth=2).fit(Xtr, ytr)
    assert shallow.get_depth() == 2 and shallow.get_n_leaves() <= 4
    mss = cm.DecisionTreeClassifier(min_samples_split=40).fit(Xtr, ytr)
    t = mss.tree_
    assert np.all(t.n_node_samples[t.feature >= 0] >= 40)
    msl = cm.DecisionTreeClassifier(min_samples_leaf=10).fit(Xtr, ytr)
    assert msl.tree_.n_node_samples[msl.tree_.feature < 0].min() >= 10
    assert full.feature_importances_.sum() == pytest.approx(1.0)
    t = full.tree_                         # depth-first numbering, as sklearn
    internal = np.flatnonzero(t.feature >= 0)
    np.testing.assert_array_equal(t.children_left[internal], internal + 1)
    np.testing.assert_array_equal(
        t.n_node_samples[internal],
        t.n_node_samples[t.children_left[internal]]
        + t.n_node_samples[t.children_right[internal]])
    assert full.apply(Xtr).shape == (len(Xtr),)


def test_regression_tree_matches_sklearn():
    X, y = datasets.load_diabetes(return_X_y=True)
    for depth in (2, 4, None):
        ours = cm.DecisionTreeRegressor(max_depth=depth, min_samples_leaf=5,
                                        random_state=0).fit(X[:300], y[:300])
        ref = tree.DecisionTreeRegressor(max_depth=depth, min_samples_leaf=5,
                                         random_state=0).fit(X[:300], y[:300])
        if depth is not None:
            np.testing.assert_allclose(ours.predict(X), ref.predict(X))
        assert abs(ours.score(X[300:], y[300:])
                   - ref.score(X[300:], y[300:])) < 0.1


@pytest.mark.parametrize("name", DATASETS)
def test_random_forest_accuracy(split, name):
    kw = {"n_max": 700} if name == "digits" else {}
    ours, ref = [], []
    for seed in range(2):
        Xtr, Xte, ytr, yte = split(name, seed=seed, standardize=False, **kw)
        ours.append(cm.RandomForestClassifier(n_estimators=25,
                                              random_state=seed)
                    .fit(Xtr, ytr).score(Xte, yte))
        ref.append(ensemble.RandomForestClassifier(n_estimators=25,
                                                   random_state=seed)
                   .fit(Xtr, ytr).score(Xte, yte))
    assert np.mean(ours) >= np.mean(ref) - 0.02


def test_random_forest_beats_single_tree_and_is_seeded(split):
    Xtr, Xte, ytr, yte = split("wine", standardize=False)
    forest = cm.RandomForestClassifier(n_estimators=30, random_state=3)
    forest.fit(Xtr, ytr)
    again = cm.RandomForestClassifier(n_estimators=30, random_state=3)
    np.testing.assert_array_equal(forest.predict_proba(Xte),
                                  again.fit(Xtr, ytr).predict_proba(Xte))
    single = cm.DecisionTreeClassifier(random_state=3).fit(Xtr, ytr)
    assert forest.score(Xte, yte) >= single.score(Xte, yte)
    assert forest.apply(Xte).shape == (len(Xte), 30)
    assert forest.predict_proba(Xte).shape == (len(Xte), 3)


def test_random_forest_regressor():
    X, y = datasets.load_diabetes(return_X_y=True)
    ours = cm.RandomForestRegressor(n_estimators=20, max_depth=6,
                                    random_state=0).fit(X[:300], y[:300])
    ref = ensemble.RandomForestRegressor(n_estimators=20, max_depth=6,
                                         random_state=0).fit(X[:300], y[:300])
    assert ours.score(X[300:], y[300:]) >= ref.score(X[300:], y[300:]) - 0.05
