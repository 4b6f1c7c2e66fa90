"""API shape shared by all estimators, and clear errors on bad input."""
import numpy as np
import pytest

import classical_ml as cm
from classical_ml import NotFittedError

RNG = np.random.default_rng(0)
X = np.abs(RNG.normal(size=(60, 4))) + 0.1        # non-negative for MultinomialNB
Y_CLF = np.repeat([0, 1, 2], 20)
Y_REG = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.1 * RNG.normal(size=60)

CLASSIFIERS = [
    cm.LogisticRegression(), cm.LinearSVC(), cm.SVC(),
    cm.DecisionTreeClassifier(), cm.RandomForestClassifier(n_estimators=5),
    cm.KNeighborsClassifier(), cm.GaussianNB(), cm.MultinomialNB(),
]
REGRESSORS = [cm.LinearRegression(), cm.Ridge(), cm.DecisionTreeRegressor(),
              cm.RandomForestRegressor(n_estimators=5)]
UNSUPERVISED = [cm.KMeans(3, n_init=1), cm.GaussianMixture(2), cm.PCA(2)]
SUPERVISED = CLASSIFIERS + REGRESSORS
ALL = SUPERVISED + UNSUPERVISED


def _name(est):
    return type(est).__name__


def _fresh(est):
    return type(est)(**est.get_params())


def _is_regressor(est):
    return isinstance(est, tuple(type(r) for r in REGRESSORS))


def _fit(est):
    est = _fresh(est)
    if est in UNSUPERVISED or not isinstance(est, tuple(
            type(e) for e in SUPERVISED)):
        return est.fit(X)
    return est.fit(X, Y_REG if _is_regressor(est) else Y_CLF)


def _methods(est):
    return [m for m in ("predict", "predict_proba", "decision_function",
                        "transform", "score_samples")
            if hasattr(est, m) and not (_name(est) == "SVC"
                                        and m == "predict_proba")]


@pytest.mark.parametrize("est", SUPERVISED, ids=_name)
def test_length_mismatch(est):
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _fresh(est).fit(X, Y_CLF[:-1])


@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
@pytest.mark.parametrize("est", ALL, ids=_name)
def test_non_finite_X_in_fit(est, bad):
    Xb = X.copy()
    Xb[3, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        if est in SUPERVISED:
            _fresh(est).fit(Xb, Y_CLF)
        else:
            _fresh(est).fit(Xb)


@pytest.mark.parametrize("est", ALL, ids=_name)
def test_non_finite_X_in_predict(est):
    fitted = _fit(est)
    Xb = X.copy()
    Xb[0, 0] = np.nan
    for method in _methods(fitted):
        with pytest.raises(ValueError, match="NaN"):
            getattr(fitted, method)(Xb)


@pytest.mark.parametrize("est", ALL, ids=_name)
def test_predict_before_fit(est):
    for method in _methods(est):
        with pytest.raises(NotFittedError, match="not fitted"):
            getattr(_fresh(est), method)(X)


@pytest.mark.parametrize("est", ALL, ids=_name)
def test_wrong_number_of_features(est):
    fitted = _fit(est)
    for method in _methods(fitted):
        with pytest.raises(ValueError, match="X has 3 features.*expecting 4"):
            getattr(fitted, method)(X[:, :3])


@pytest.mark.parametrize("est", ALL, ids=_name)
def test_one_dimensional_X(est):
    with pytest.raises(ValueError, match="Expected a 2D array"):
        if est in SUPERVISED:
            _fresh(est).fit(X[:, 0], Y_CLF)
        else:
            _fresh(est).fit(X[:, 0])


def test_nan_in_regression_target():
    y = Y_REG.copy()
    y[5] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        cm.LinearRegression().fit(X, y)


@pytest.mark.parametrize("est", CLASSIFIERS, ids=_name)
def test_classifier_rejects_continuous_targets(est):
    with pytest.raises(ValueError, match="continuous"):
        _fresh(est).fit(X, Y_REG)


@pytest.mark.parametrize("est", [cm.LogisticRegression(), cm.SVC(),
                                 cm.LinearSVC()], ids=_name)
def test_single_class_rejected(est):
    with pytest.raises(ValueError, match="class"):
        _fresh(est).fit(X, np.zeros(60))


@pytest.mark.parametrize("est,bad", [
    (cm.LogisticRegression(C=-1.0), "C"), (cm.SVC(kernel="cosine"), "kernel"),
    (cm.DecisionTreeClassifier(max_depth=0), "max_depth"),
    (cm.DecisionTreeClassifier(criterion="mse"), "criterion"),
    (cm.KNeighborsClassifier(n_neighbors=0), "n_neighbors"),
    (cm.KMeans(n_clusters=100), "n_clusters"),
    (cm.GaussianMixture(covariance_type="banded"), "covariance_type"),
    (cm.PCA(n_components=9), "n_components"),
    (cm.RandomForestClassifier(max_features="half"), "max_features"),
    (cm.Ridge(alpha=-1.0), "alpha"),
], ids=lambda v: v if isinstance(v, str) else _name(v))
def test_bad_hyperparameters_name_the_problem(est, bad):
    with pytest.raises(ValueError, match=bad):
        if est in UNSUPERVISED or isinstance(est, (cm.KMeans, cm.PCA,
                                                   cm.GaussianMixture)):
            est.fit(X)
        else:
            est.fit(X, Y_REG if isinstance(est, cm.Ridge) else Y_CLF)


@pytest.mark.parametrize("est", ALL + [cm.TSNE()], ids=_name)
def test_params_round_trip_and_sklearn_clone(est):
    params = est.get_params()
    assert type(est)(**params).get_params() == params
    assert est.set_params(**params) is est
    with pytest.raises(ValueError, match="Invalid parameter"):
        est.set_params(not_a_param=1)
    assert _name(est) in repr(est)
    sk_base = pytest.importorskip("sklearn.base")
    clone = sk_base.clone(est)
    assert clone is not est and clone.get_params() == params


@pytest.mark.parametrize("est", SUPERVISED, ids=_name)
def test_fitted_attributes_and_score(est):
    fitted = _fit(est)
    assert fitted.n_features_in_ == 4
    y = Y_REG if _is_regressor(fitted) else Y_CLF
    s = fitted.score(X, y)
    assert np.isfinite(s) and s <= 1.0
    assert fitted.predict(X).shape == (60,)
