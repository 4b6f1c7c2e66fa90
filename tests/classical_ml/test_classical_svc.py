"""Kernel SVC (SMO) vs scikit-learn's libsvm."""
import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn import svm

import classical_ml as cm
from classical_ml.classification.kernels import kernel_matrix
from classical_ml.classification.smo import smo_solve

CASES = [("iris", {}), ("wine", {}), ("breast_cancer", {}),
         ("digits", {"n_max": 700})]


@pytest.mark.parametrize("kernel", ["rbf", "poly", "linear"])
@pytest.mark.parametrize("name,kw", CASES, ids=[c[0] for c in CASES])
def test_svc_accuracy_matches_libsvm(split, name, kw, kernel):
    Xtr, Xte, ytr, yte = split(name, **kw)
    ours = cm.SVC(kernel=kernel).fit(Xtr, ytr)
    ref = svm.SVC(kernel=kernel).fit(Xtr, ytr)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= 0.02
    # same dual problem and tolerance: nearly the same support set
    assert abs(len(ours.support_) - len(ref.support_)) <= 0.05 * len(
        ref.support_) + 2


def test_svc_dual_and_decision_match_libsvm(split):
    Xtr, Xte, ytr, _ = split("wine")
    ours = cm.SVC(C=2.0, gamma=0.05, tol=1e-6).fit(Xtr, ytr)
    ref = svm.SVC(C=2.0, gamma=0.05, tol=1e-6).fit(Xtr, ytr)
    np.testing.assert_array_equal(ours.support_, ref.support_)
    np.testing.assert_array_equal(ours.n_support_, ref.n_support_)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, atol=1e-3)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-3)
    np.testing.assert_allclose(ours.decision_function(Xte),
                               ref.decision_function(Xte), atol=1e-3)
    ovo = cm.SVC(C=2.0, gamma=0.05, decision_function_shape="ovo").fit(Xtr, ytr)
    assert ovo.decision_function(Xte).shape == (len(Xte), 3)


def test_svc_binary_sign_convention(split):
    Xtr, Xte, ytr, _ = split("breast_cancer")
    ours = cm.SVC().fit(Xtr, ytr)
    ref = svm.SVC().fit(Xtr, ytr)
    d = ours.decision_function(Xte)
    assert d.shape == (len(Xte),)
    np.testing.assert_array_equal(ours.predict(Xte),
                                  ours.classes_[(d > 0).astype(int)])
    np.testing.assert_allclose(d, ref.decision_function(Xte), atol=1e-2)


def test_smo_satisfies_kkt_conditions():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 2))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=80) > 0, 1.0, -1.0)
    K = kernel_matrix(X, X, "rbf", 0.5, 3, 0.0)
    C = 1.0
    alpha, rho, _, ok = smo_solve(K, y, C, tol=1e-6)
    assert ok
    assert abs(alpha @ y) < 1e-8
    assert alpha.min() >= 0 and alpha.max() <= C
    f = K @ (alpha * y) - rho
    m = y * f
    free = (alpha > 1e-8) & (alpha < C - 1e-8)
    assert np.all(np.abs(m[free] - 1) < 1e-4)
    assert np.all(m[alpha <= 1e-8] >= 1 - 1e-4)
    assert np.all(m[alpha >= C - 1e-8] <= 1 + 1e-4)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_svc_probability(split):
    Xtr, Xte, ytr, yte = split("iris")
    clf = cm.SVC(probability=True, random_state=0).fit(Xtr, ytr)
    p = clf.predict_proba(Xte)
    assert p.shape == (len(Xte), 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert np.mean(clf.classes_[p.argmax(axis=1)] == yte) >= 0.9
    ref = svm.SVC(probability=True, random_state=0).fit(Xtr, ytr)
    # Platt scaling on different CV folds: loose agreement only
    assert np.abs(p - ref.predict_proba(Xte)).mean() < 0.05
    with pytest.raises(AttributeError, match="probability=False"):
        cm.SVC().fit(Xtr, ytr).predict_proba(Xte)


def test_svc_sigmoid_kernel_and_gamma_options(split):
    Xtr, Xte, ytr, yte = split("iris")
    for gamma in ("scale", "auto", 0.3):
        ours = cm.SVC(kernel="sigmoid", gamma=gamma, C=0.5).fit(Xtr, ytr)
        ref = svm.SVC(kernel="sigmoid", gamma=gamma, C=0.5).fit(Xtr, ytr)
        assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= 0.05
