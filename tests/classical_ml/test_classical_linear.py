"""Linear models vs scikit-learn: R^2, coefficients and held-out accuracy."""
import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn import datasets, linear_model, svm

import classical_ml as cm

from .conftest import DATASETS


@pytest.fixture(scope="module")
def diabetes():
    X, y = datasets.load_diabetes(return_X_y=True)
    return X[:300], X[300:], y[:300], y[300:]


@pytest.mark.parametrize("solver", ["closed_form", "gd"])
def test_linear_regression_matches_sklearn(diabetes, solver):
    Xtr, Xte, ytr, yte = diabetes
    ours = cm.LinearRegression(solver=solver).fit(Xtr, ytr)
    ref = linear_model.LinearRegression().fit(Xtr, ytr)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) < 0.01
    tol = 1e-6 if solver == "closed_form" else 1e-2
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=tol, atol=tol)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-4)


def test_linear_regression_multi_output_and_weights(diabetes):
    Xtr, _, ytr, _ = diabetes
    Y = np.column_stack([ytr, 2 * ytr + 1])
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(ytr))
    ours = cm.LinearRegression().fit(Xtr, Y, sample_weight=w)
    ref = linear_model.LinearRegression().fit(Xtr, Y, sample_weight=w)
    assert ours.coef_.shape == (2, Xtr.shape[1])
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6)
    np.testing.assert_allclose(ours.predict(Xtr), ref.predict(Xtr), rtol=1e-8)


@pytest.mark.parametrize("alpha", [0.1, 1.0, 10.0])
@pytest.mark.parametrize("solver", ["auto", "svd"])
def test_ridge_matches_sklearn(diabetes, alpha, solver):
    Xtr, Xte, ytr, yte = diabetes
    ours = cm.Ridge(alpha=alpha, solver=solver).fit(Xtr, ytr)
    ref = linear_model.Ridge(alpha=alpha).fit(Xtr, ytr)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) < 0.01
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)


def test_ridge_wide_data_uses_kernel_form():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 50)), rng.normal(size=20)
    ours = cm.Ridge(alpha=0.5).fit(X, y)
    ref = linear_model.Ridge(alpha=0.5).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("name", DATASETS)
def test_logistic_regression_accuracy(split, name):
    Xtr, Xte, ytr, yte = split(name)
    ours = cm.LogisticRegression(max_iter=500).fit(Xtr, ytr)
    ref = linear_model.LogisticRegression(max_iter=500).fit(Xtr, ytr)
    assert ours.score(Xte, yte) >= ref.score(Xte, yte) - 0.02
    # same convex objective: probabilities agree closely
    np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte),
                               atol=0.02)


def test_logistic_binary_shapes_and_no_penalty(split):
    Xtr, Xte, ytr, yte = split("breast_cancer")
    ours = cm.LogisticRegression(C=0.1).fit(Xtr, ytr)
    ref = linear_model.LogisticRegression(C=0.1).fit(Xtr, ytr)
    assert ours.coef_.shape == ref.coef_.shape == (1, Xtr.shape[1])
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=2e-3)
    assert ours.decision_function(Xte).shape == (len(Xte),)
    p = ours.predict_proba(Xte)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    unpen = cm.LogisticRegression(penalty=None, max_iter=50).fit(
        Xtr[:, :3], ytr)
    assert np.abs(unpen.coef_).max() > np.abs(
        cm.LogisticRegression(C=1e-3).fit(Xtr[:, :3], ytr).coef_).max()


def test_logistic_string_labels():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array(["no", "no", "yes", "yes"])
    clf = cm.LogisticRegression(C=100.0).fit(X, y)
    assert list(clf.classes_) == ["no", "yes"]
    assert list(clf.predict([[-1.0], [4.0]])) == ["no", "yes"]


@pytest.mark.parametrize("name", DATASETS)
def test_linear_svc_accuracy(split, name):
    Xtr, Xte, ytr, yte = split(name)
    ours = cm.LinearSVC().fit(Xtr, ytr)
    ref = svm.LinearSVC().fit(Xtr, ytr)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= 0.02
    n_rows = 1 if len(np.unique(ytr)) == 2 else len(np.unique(ytr))
    assert ours.coef_.shape == ref.coef_.shape == (n_rows, Xtr.shape[1])


def test_linear_svc_matches_liblinear_solution(split):
    Xtr, _, ytr, _ = split("breast_cancer")
    ours = cm.LinearSVC(C=0.5, tol=1e-8).fit(Xtr, ytr)
    ref = svm.LinearSVC(C=0.5, tol=1e-8, max_iter=100000).fit(Xtr, ytr)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=2e-3)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=2e-3)
