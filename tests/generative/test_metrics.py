"""FID / KID against closed forms, the feature classifier, label accuracy and the eval table."""
from __future__ import annotations

import numpy as np
import pytest

from generative.core.data import ImageDataset
from generative.metrics import (
    FeatureClassifier,
    evaluate,
    extract_features,
    fid_from_features,
    format_table,
    frechet_distance,
    kid_from_features,
    label_accuracy,
    load_classifier,
    mmd2_unbiased,
    predict_labels,
    save_classifier,
    train_classifier,
)
from generative.metrics.fid import polynomial_kernel, sqrtm_psd
from tests.generative.test_trainer import TinyModel


def random_spd(d, rng):
    a = rng.standard_normal((d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_sqrtm_psd_squares_back():
    m = random_spd(6, np.random.default_rng(0))
    root = sqrtm_psd(m)
    np.testing.assert_allclose(root @ root, m, atol=1e-10)
    np.testing.assert_allclose(root, root.T)


def test_fid_of_a_set_with_itself_is_zero():
    f = np.random.default_rng(1).standard_normal((500, 16)) * 3 + 2
    assert abs(fid_from_features(f, f)) < 1e-8


def test_frechet_distance_closed_forms():
    rng = np.random.default_rng(2)
    mu1, mu2 = rng.standard_normal(5), rng.standard_normal(5)
    s = random_spd(5, rng)
    # equal covariances: only the means differ
    assert frechet_distance(mu1, s, mu2, s) == pytest.approx(np.sum((mu1 - mu2) ** 2), rel=1e-9)
    # diagonal covariances commute: sum (sqrt(a) - sqrt(b))^2
    a, b = rng.random(5) + 0.1, rng.random(5) + 0.1
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_matches_scipy_sqrtm():
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(3)
    mu1, mu2, s1, s2 = rng.standard_normal(8), rng.standard_normal(8), random_spd(8, rng), random_spd(8, rng)
    covmean = linalg.sqrtm(s1 @ s2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)


def test_fid_of_shifted_gaussian_samples():
    rng = np.random.default_rng(4)
    shift = np.array([1.0, -2.0, 0.5])
    x, y = rng.standard_normal((20000, 3)), rng.standard_normal((20000, 3)) + shift
    assert fid_from_features(x, y) == pytest.approx(np.sum(shift ** 2), abs=0.05)


def test_metric_input_errors():
    with pytest.raises(ValueError, match=r"means \(D,\) and covariances"):
        frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="NaN/inf"):
        fid_from_features(np.full((4, 2), np.nan), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="feature sizes differ"):
        kid_from_features(np.zeros((4, 2)), np.zeros((4, 3)))


def test_mmd2_unbiased_matches_the_pairwise_sums():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3)) + 1
    k = lambda a, b: (a @ b / 3 + 1) ** 3  # noqa: E731
    m = 5
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / m ** 2
    assert mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-12)
    assert polynomial_kernel(x, y).shape == (5, 5)


def test_kid_is_unbiased():
    """In 1-D, (xy + 1)^3 = x^3 y^3 + 3 x^2 y^2 + 3 x y + 1, so the population MMD^2 between P and Q is
    sum_j c_j (E_P x^j - E_Q x^j)^2 with c = (3, 3, 1): the mean of the estimates over many small subsets must
    match it, and be ~0 for one distribution, where the biased (V-statistic) estimate is clearly positive."""
    rng = np.random.default_rng(6)
    mu = 0.5
    p, q, p2 = rng.standard_normal((200000, 1)), rng.standard_normal((200000, 1)) + mu, rng.standard_normal((200000, 1))
    moments_p, moments_q = np.array([0.0, 1.0, 0.0]), np.array([mu, mu ** 2 + 1, mu ** 3 + 3 * mu])
    population = np.sum(np.array([3.0, 3.0, 1.0]) * (moments_p - moments_q) ** 2)
    mean, std = kid_from_features(p, q, num_subsets=4000, subset_size=10, rng=np.random.default_rng(0))
    assert mean == pytest.approx(population, abs=4 * std / np.sqrt(4000))
    same_mean, same_std = kid_from_features(p, p2, num_subsets=4000, subset_size=10, rng=np.random.default_rng(1))
    assert abs(same_mean) < 4 * same_std / np.sqrt(4000)
    v_statistic = [polynomial_kernel(a, a).mean() + polynomial_kernel(b, b).mean() - 2 * polynomial_kernel(a, b).mean()
                   for a, b in zip(np.split(p[:40000], 4000), np.split(p2[:40000], 4000))]
    biased = np.mean(v_statistic)
    assert biased > 10 * same_std / np.sqrt(4000)


def two_class_images(n, rng, size=8):
    """Class 0: dark images; class 1: bright ones, (n, 1, size, size) in [0, 1]."""
    y = rng.integers(0, 2, n)
    x = np.clip(rng.normal(0.25 + 0.5 * y[:, None, None, None], 0.15, (n, 1, size, size)), 0, 1).astype(np.float32)
    return x, y.astype(np.int64)


@pytest.fixture(scope="module")
def trained_classifier():
    rng = np.random.default_rng(7)
    x, y = two_class_images(256, rng)
    xt, yt = two_class_images(128, rng)
    model, accuracy = train_classifier(x, y, xt, yt, epochs=2, batch_size=32, lr=3e-3, seed=0, progress=False)
    return model, accuracy, (x, y, xt, yt)


def test_feature_classifier_learns_and_round_trips(trained_classifier, tmp_path):
    model, accuracy, (x, y, xt, yt) = trained_classifier
    assert accuracy > 0.9
    assert extract_features(model, xt[:5]).shape == (5, 128) and extract_features(model, xt).dtype == np.float64
    save_classifier(model, tmp_path / "c.npz", accuracy, "abc", {"note": "test"})
    loaded, info = load_classifier(tmp_path / "c.npz")
    assert info["test_accuracy"] == accuracy and info["data_fingerprint"] == "abc"
    np.testing.assert_array_equal(extract_features(loaded, xt), extract_features(model, xt))
    with pytest.raises(FileNotFoundError, match="python -m generative classifier --data"):
        load_classifier(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match=r"expected images of shape \(N, 1, 8, 8\)"):
        predict_labels(model, np.zeros((2, 1, 28, 28)))
    with pytest.raises(ValueError, match="divisible by 4"):
        FeatureClassifier((1, 10, 10))


def test_label_accuracy(trained_classifier):
    model, _, (_, _, xt, yt) = trained_classifier
    predicted = predict_labels(model, xt)
    assert label_accuracy(model, xt, predicted) == 1.0
    assert label_accuracy(model, xt, 1 - predicted) == 0.0
    assert label_accuracy(model, xt, yt) == pytest.approx(np.mean(predicted == yt))
    with pytest.raises(ValueError, match="one label per image"):
        label_accuracy(model, xt, yt[:3])


class BoundModel(TinyModel):
    """TinyModel with a stand-in bound: log p(x) = -(number of 1 pixels), so the NLL is known."""

    def log_likelihood_bound(self, x, k, rng):
        return -x.reshape(len(x), -1).sum(axis=1)


def test_evaluate_table(trained_classifier):
    clf, accuracy, (x, y, xt, yt) = trained_classifier
    ds = ImageDataset(x, y, xt, yt, path="synthetic", kind="idx", num_classes=2)
    model = BoundModel((1, 8, 8), 2, conditional=True)
    rows = evaluate(model, ds, clf, n=60, seed=0, batch_size=25, kid_subsets=5, kid_subset_size=30, nll_k=3,
                    progress=False)
    fid_model, fid_floor, _ = rows["FID (corenn classifier), n=60"]
    assert fid_model > fid_floor >= 0
    acc_model, acc_floor, _ = rows["label accuracy of conditional samples"]
    assert 0 <= acc_model <= 1 and acc_floor == pytest.approx(accuracy)
    nll, floor, note = rows["NLL bound (nats), k=3"]
    assert nll == pytest.approx(xt.sum(axis=(1, 2, 3)).mean(), rel=0.05) and floor is None and "128 images" in note
    table = format_table(rows)
    assert "FID (corenn classifier)" in table and "floor (real data)" in table and "KID (corenn classifier)" in table
    unconditional = evaluate(TinyModel((1, 8, 8), 2), ds, clf, n=20, kid_subsets=2, progress=False)
    assert not any(k.startswith(("label accuracy", "NLL")) for k in unconditional)
    with pytest.raises(ValueError, match="reads"):
        evaluate(TinyModel((1, 12, 12), 2), ds, clf, n=20, progress=False)
