"""k-means and Gaussian mixtures vs scikit-learn."""
import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn import cluster, datasets, mixture

import classical_ml as cm


@pytest.fixture(scope="module")
def iris():
    return datasets.load_iris(return_X_y=True)[0]


@pytest.fixture(scope="module")
def digits():
    return datasets.load_digits(return_X_y=True)[0]


@pytest.mark.parametrize("k", [2, 3, 5])
def test_kmeans_inertia_iris(iris, k):
    ours = cm.KMeans(k, n_init=5, random_state=0).fit(iris)
    ref = cluster.KMeans(k, n_init=5, random_state=0).fit(iris)
    assert ours.inertia_ <= ref.inertia_ * 1.01
    assert ours.cluster_centers_.shape == (k, 4)
    assert ours.labels_.shape == (150,)
    np.testing.assert_array_equal(ours.predict(iris), ours.labels_)
    assert ours.score(iris) == pytest.approx(-ours.inertia_)


def test_kmeans_inertia_digits(digits):
    ours = cm.KMeans(10, n_init=3, random_state=0).fit(digits)
    ref = cluster.KMeans(10, n_init=3, random_state=0).fit(digits)
    assert ours.inertia_ <= ref.inertia_ * 1.01


def test_kmeans_init_options_and_transform(iris):
    rand = cm.KMeans(3, init="random", random_state=1).fit(iris)
    ref = cluster.KMeans(3, n_init=10, random_state=0).fit(iris)
    assert rand.inertia_ <= ref.inertia_ * 1.01
    fixed = cm.KMeans(3, init=ref.cluster_centers_).fit(iris)
    np.testing.assert_allclose(fixed.cluster_centers_, ref.cluster_centers_,
                               atol=1e-8)
    D = fixed.transform(iris)
    assert D.shape == (150, 3)
    np.testing.assert_array_equal(D.argmin(axis=1), fixed.labels_)
    np.testing.assert_array_equal(cm.KMeans(3, random_state=0)
                                  .fit_predict(iris),
                                  cm.KMeans(3, random_state=0).fit(iris)
                                  .labels_)


def test_kmeans_more_clusters_than_distinct_points():
    X = np.repeat([[0.0, 0.0], [1.0, 1.0]], 5, axis=0)
    km = cm.KMeans(3, n_init=2, random_state=0).fit(X)
    assert km.inertia_ == pytest.approx(0.0)


@pytest.mark.parametrize("cov", ["full", "diag", "tied", "spherical"])
def test_gmm_log_likelihood_iris(iris, cov):
    ours = cm.GaussianMixture(3, covariance_type=cov, n_init=3,
                              random_state=0).fit(iris)
    ref = mixture.GaussianMixture(3, covariance_type=cov, n_init=3,
                                  random_state=0).fit(iris)
    ll_o, ll_r = ours.score(iris), ref.score(iris)
    assert ll_o >= ll_r - 0.01 * abs(ll_r)
    assert ours.converged_
    assert ours.covariances_.shape == ref.covariances_.shape
    # same parameter count: BIC differs only through the likelihood
    assert ours.bic(iris) - ref.bic(iris) == pytest.approx(
        -2 * 150 * (ll_o - ll_r), abs=1e-6)
    assert ours.aic(iris) < ours.bic(iris)


def test_gmm_on_wine_full_and_diag():
    X = datasets.load_wine(return_X_y=True)[0]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    for cov in ("full", "diag"):
        ours = cm.GaussianMixture(3, covariance_type=cov, n_init=2,
                                  random_state=0).fit(X)
        ref = mixture.GaussianMixture(3, covariance_type=cov, n_init=2,
                                      random_state=0).fit(X)
        assert ours.score(X) >= ref.score(X) - 0.01 * abs(ref.score(X))


def test_gmm_recovers_synthetic_components():
    rng = np.random.default_rng(0)
    means = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    covs = np.array([[[1.0, 0.6], [0.6, 1.0]], [[0.5, 0.0], [0.0, 2.0]],
                     [[1.5, -0.7], [-0.7, 1.0]]])
    X = np.vstack([rng.multivariate_normal(m, c, 400)
                   for m, c in zip(means, covs)])
    gmm = cm.GaussianMixture(3, random_state=0).fit(X)
    order = np.argsort(gmm.means_[:, 0] + 10 * gmm.means_[:, 1])
    np.testing.assert_allclose(gmm.means_[order], means[[0, 1, 2]], atol=0.2)
    np.testing.assert_allclose(gmm.covariances_[order], covs, atol=0.25)
    np.testing.assert_allclose(gmm.weights_, 1 / 3, atol=0.02)
    p = gmm.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_array_equal(p.argmax(axis=1), gmm.predict(X))
    np.testing.assert_allclose(
        gmm.precisions_, np.linalg.inv(gmm.covariances_), rtol=1e-6)
    S, labels = gmm.sample(300, random_state=1)
    assert S.shape == (300, 2) and labels.shape == (300,)
    # BIC picks the true number of components
    bics = [cm.GaussianMixture(k, random_state=0).fit(X).bic(X)
            for k in (1, 2, 3, 4)]
    assert int(np.argmin(bics)) + 1 == 3
