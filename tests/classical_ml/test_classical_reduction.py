"""PCA and t-SNE vs scikit-learn."""
import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn import datasets, decomposition, manifold

import classical_ml as cm
from classical_ml.reduction.tsne import conditional_probabilities, kl_gradient, squared_pairwise


@pytest.fixture(scope="module")
def digits():
    return datasets.load_digits(return_X_y=True)


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "digits"])
def test_pca_components_equal_up_to_sign(name):
    X = getattr(datasets, f"load_{name}")(return_X_y=True)[0]
    k = min(5, X.shape[1])
    ours = cm.PCA(k).fit(X)
    ref = decomposition.PCA(k, svd_solver="full").fit(X)
    signs = np.sign(np.sum(ours.components_ * ref.components_, axis=1))
    np.testing.assert_allclose(ours.components_ * signs[:, None],
                               ref.components_, atol=1e-5)
    np.testing.assert_allclose(ours.explained_variance_ratio_,
                               ref.explained_variance_ratio_, rtol=1e-8)
    np.testing.assert_allclose(ours.explained_variance_,
                               ref.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(ours.singular_values_, ref.singular_values_,
                               rtol=1e-8)
    assert ours.noise_variance_ == pytest.approx(ref.noise_variance_)


def test_pca_whiten_fraction_and_inverse(digits):
    X = digits[0]
    ours = cm.PCA(0.9, whiten=True)
    Z = ours.fit_transform(X)
    ref = decomposition.PCA(0.9, whiten=True, svd_solver="full").fit(X)
    assert ours.n_components_ == ref.n_components_
    np.testing.assert_allclose(Z.std(axis=0, ddof=1), 1.0, rtol=1e-8)
    np.testing.assert_allclose(Z, ours.transform(X), atol=1e-8)
    np.testing.assert_allclose(np.abs(Z), np.abs(ref.transform(X)), atol=1e-6)
    np.testing.assert_allclose(ours.inverse_transform(Z),
                               ref.inverse_transform(ref.transform(X)),
                               atol=1e-6)
    full = cm.PCA().fit(X)
    np.testing.assert_allclose(full.inverse_transform(full.transform(X)), X,
                               atol=1e-8)
    assert full.explained_variance_ratio_.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(full.get_covariance(), np.cov(X.T), atol=1e-8)


def test_perplexity_calibration():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5))
    P = conditional_probabilities(squared_pairwise(X), perplexity=15.0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert np.all(np.diag(P) == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        H = -np.nansum(np.where(P > 0, P * np.log(P), 0.0), axis=1)
    np.testing.assert_allclose(np.exp(H), 15.0, rtol=1e-3)


def test_tsne_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    n = 12
    P = rng.random((n, n))
    P = P + P.T
    np.fill_diagonal(P, 0.0)
    P /= P.sum()
    Y = rng.normal(size=(n, 2))
    _, g = kl_gradient(Y, P, 1.0)
    eps = 1e-6
    num = np.zeros_like(Y)
    for i in range(n):
        for j in range(2):
            Yp, Ym = Y.copy(), Y.copy()
            Yp[i, j] += eps
            Ym[i, j] -= eps
            num[i, j] = (kl_gradient(Yp, P, 1.0)[0]
                         - kl_gradient(Ym, P, 1.0)[0]) / (2 * eps)
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8)


def test_tsne_trustworthiness_vs_sklearn(digits):
    X, y = digits
    idx = np.random.default_rng(0).choice(len(X), 300, replace=False)
    Xs = X[idx]
    emb = cm.TSNE(random_state=0, max_iter=500).fit_transform(Xs)
    ref = manifold.TSNE(random_state=0, max_iter=500).fit_transform(Xs)
    tw_o = manifold.trustworthiness(Xs, emb, n_neighbors=5)
    tw_r = manifold.trustworthiness(Xs, ref, n_neighbors=5)
    assert emb.shape == (300, 2)
    assert tw_o >= tw_r - 0.02
    assert tw_o > 0.95


@pytest.mark.slow
def test_tsne_exact_vs_sklearn_exact(digits):
    X, _ = digits
    idx = np.random.default_rng(1).choice(len(X), 500, replace=False)
    Xs = X[idx]
    model = cm.TSNE(random_state=0)
    emb = model.fit_transform(Xs)
    ref_model = manifold.TSNE(method="exact", random_state=0)
    ref = ref_model.fit_transform(Xs)
    tw = manifold.trustworthiness
    assert tw(Xs, emb, n_neighbors=5) >= tw(Xs, ref, n_neighbors=5) - 0.02
    assert model.kl_divergence_ <= ref_model.kl_divergence_ * 1.1


def test_tsne_options():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (40, 6)), rng.normal(8, 1, (40, 6))])
    emb = cm.TSNE(perplexity=10, init="random", random_state=0,
                  max_iter=600, learning_rate=100.0).fit_transform(X)
    # two well-separated blobs stay apart: each point's 5 nearest
    # neighbours in the embedding come from its own blob
    labels = np.repeat([0, 1], 40)
    D = squared_pairwise(emb)
    np.fill_diagonal(D, np.inf)
    nn = np.argsort(D, axis=1)[:, :5]
    assert np.all(labels[nn] == labels[:, None])
    three = cm.TSNE(n_components=3, perplexity=10, max_iter=250,
                    random_state=0).fit(X)
    assert three.embedding_.shape == (80, 3)
    assert np.isfinite(three.kl_divergence_)
    with pytest.raises(ValueError, match="perplexity"):
        cm.TSNE(perplexity=100).fit_transform(X)
