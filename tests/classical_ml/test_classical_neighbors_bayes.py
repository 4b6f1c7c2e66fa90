"""k-NN and naive Bayes vs scikit-learn."""
import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn import naive_bayes, neighbors

import classical_ml as cm

from .conftest import DATASETS


@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize("name", DATASETS)
def test_knn_matches_sklearn(split, name, weights):
    Xtr, Xte, ytr, yte = split(name)
    ours = cm.KNeighborsClassifier(n_neighbors=7, weights=weights).fit(Xtr, ytr)
    ref = neighbors.KNeighborsClassifier(n_neighbors=7, weights=weights)
    ref.fit(Xtr, ytr)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= 0.02
    np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte),
                               atol=1e-12)
    d_o, i_o = ours.kneighbors(Xte[:20])
    d_r, _ = ref.kneighbors(Xte[:20])
    np.testing.assert_allclose(d_o, d_r, atol=1e-9)
    assert i_o.shape == (20, 7)


def test_knn_manhattan_and_training_query(split):
    Xtr, Xte, ytr, yte = split("wine")
    ours = cm.KNeighborsClassifier(n_neighbors=3, p=1).fit(Xtr, ytr)
    ref = neighbors.KNeighborsClassifier(n_neighbors=3, p=1).fit(Xtr, ytr)
    np.testing.assert_array_equal(ours.predict(Xte), ref.predict(Xte))
    d, i = ours.kneighbors()                   # training set, self excluded
    assert not np.any(i == np.arange(len(Xtr))[:, None])
    d_r, _ = ref.kneighbors()
    np.testing.assert_allclose(d, d_r, atol=1e-9)


def test_knn_distance_weights_exact_match():
    X = np.array([[0.0], [1.0], [2.0], [10.0]])
    y = np.array([0, 0, 1, 1])
    clf = cm.KNeighborsClassifier(n_neighbors=3, weights="distance").fit(X, y)
    # a query on a training point takes that point's label
    assert clf.predict([[2.0]])[0] == 1
    np.testing.assert_allclose(clf.predict_proba([[2.0]]), [[0.0, 1.0]])


@pytest.mark.parametrize("name", DATASETS)
def test_gaussian_nb_matches_sklearn(split, name):
    Xtr, Xte, ytr, yte = split(name, standardize=False)
    ours = cm.GaussianNB().fit(Xtr, ytr)
    ref = naive_bayes.GaussianNB().fit(Xtr, ytr)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= 0.02
    np.testing.assert_allclose(ours.theta_, ref.theta_, rtol=1e-10)
    np.testing.assert_allclose(ours.var_, ref.var_, rtol=1e-8)
    np.testing.assert_allclose(ours.predict_log_proba(Xte),
                               ref.predict_log_proba(Xte), rtol=1e-6,
                               atol=1e-6)


@pytest.mark.parametrize("alpha,fit_prior", [(1.0, True), (0.1, False)])
def test_multinomial_nb_matches_sklearn(split, alpha, fit_prior):
    Xtr, Xte, ytr, yte = split("digits", standardize=False)  # pixel counts
    ours = cm.MultinomialNB(alpha=alpha, fit_prior=fit_prior).fit(Xtr, ytr)
    ref = naive_bayes.MultinomialNB(alpha=alpha, fit_prior=fit_prior)
    ref.fit(Xtr, ytr)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= 0.02
    np.testing.assert_allclose(ours.feature_log_prob_, ref.feature_log_prob_)
    np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte),
                               atol=1e-10)


def test_multinomial_nb_rejects_negative_counts():
    with pytest.raises(ValueError, match="Negative values"):
        cm.MultinomialNB().fit([[1.0, -1.0], [0.0, 2.0]], [0, 1])
