import numpy as np
import pytest

from corenn.utils.metrics import (
    accuracy,
    confusion_matrix,
    f1_score,
    mae,
    mse,
    precision_recall_f1,
    precision_score,
    r2_score,
    recall_score,
)

# hand-computed example: 3 classes
Y_TRUE = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 1])
Y_PRED = np.array([0, 1, 0, 1, 2, 2, 2, 0, 2, 1])


def test_accuracy():
    assert accuracy(Y_TRUE, Y_PRED) == 0.7
    scores = np.eye(3)[Y_PRED] * 2.0 - 1.0
    assert accuracy(Y_TRUE, scores) == 0.7
    with pytest.raises(ValueError, match="shape"):
        accuracy([0, 1], [0, 1, 1])


def test_confusion_matrix_by_hand():
    cm = confusion_matrix(Y_TRUE, Y_PRED)
    np.testing.assert_array_equal(cm, [[2, 1, 0], [0, 2, 1], [1, 0, 3]])
    assert cm.dtype == np.int64
    cm5 = confusion_matrix([0, 1], [1, 1], num_classes=4)
    assert cm5.shape == (4, 4) and cm5[0, 1] == 1 and cm5[1, 1] == 1
    strings = confusion_matrix(["cat", "dog", "dog"], ["dog", "dog", "cat"], labels=["dog", "cat"])
    np.testing.assert_array_equal(strings, [[1, 1], [1, 0]])
    with pytest.raises(ValueError, match="not in labels"):
        confusion_matrix([0, 5], [0, 1], num_classes=3)


def test_precision_recall_f1_by_hand():
    # per class: tp=(2,2,3), predicted=(3,3,4), support=(3,3,4)
    p, r, f = precision_recall_f1(Y_TRUE, Y_PRED, average=None)
    np.testing.assert_allclose(p, [2 / 3, 2 / 3, 3 / 4])
    np.testing.assert_allclose(r, [2 / 3, 2 / 3, 3 / 4])
    np.testing.assert_allclose(f, [2 / 3, 2 / 3, 3 / 4])
    assert precision_score(Y_TRUE, Y_PRED) == pytest.approx((2 / 3 + 2 / 3 + 3 / 4) / 3)
    assert recall_score(Y_TRUE, Y_PRED, average="micro") == pytest.approx(0.7)
    assert f1_score(Y_TRUE, Y_PRED, average="micro") == pytest.approx(0.7)
    # binary-like example with asymmetric precision and recall
    yt, yp = [1, 1, 1, 0, 0], [1, 0, 0, 0, 1]
    p, r, f = precision_recall_f1(yt, yp, average=None)
    # class 0: predicted at idx 1,2,3 (one right), true at idx 3,4; class 1 mirrored
    np.testing.assert_allclose(p, [1 / 3, 1 / 2])
    np.testing.assert_allclose(r, [1 / 2, 1 / 3])
    np.testing.assert_allclose(f, [0.4, 0.4])


def test_zero_division_and_bad_average():
    p = precision_score([0, 0, 1], [0, 0, 0], average=None)
    np.testing.assert_allclose(p, [2 / 3, 0.0])
    with pytest.raises(ValueError, match="average"):
        f1_score([0], [0], average="samples")


@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
def test_classification_matches_sklearn(average):
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    yt = rng.integers(0, 5, size=200)
    yp = np.where(rng.random(200) < 0.6, yt, rng.integers(0, 5, size=200))
    yp[yp == 4] = 3  # class 4 never predicted: exercises zero division
    kw = dict(average=average, zero_division=0)
    assert precision_score(yt, yp, average) == pytest.approx(skm.precision_score(yt, yp, **kw))
    assert recall_score(yt, yp, average) == pytest.approx(skm.recall_score(yt, yp, **kw))
    assert f1_score(yt, yp, average) == pytest.approx(skm.f1_score(yt, yp, **kw))
    assert accuracy(yt, yp) == pytest.approx(skm.accuracy_score(yt, yp))
    np.testing.assert_array_equal(confusion_matrix(yt, yp), skm.confusion_matrix(yt, yp))


def test_regression_by_hand():
    yt = np.array([3.0, -0.5, 2.0, 7.0])
    yp = np.array([2.5, 0.0, 2.0, 8.0])
    assert mse(yt, yp) == pytest.approx(0.375)
    assert mae(yt, yp) == pytest.approx(0.5)
    # mean 2.875, SS_tot = 29.1875, SS_res = 1.5
    assert r2_score(yt, yp) == pytest.approx(1 - 1.5 / 29.1875)
    assert r2_score(yt, yt) == 1.0
    assert r2_score([2.0, 2.0], [2.0, 2.0]) == 1.0
    assert r2_score([2.0, 2.0], [1.0, 2.0]) == 0.0
    with pytest.raises(ValueError, match="shape"):
        mse([1.0], [1.0, 2.0])


def test_regression_matches_sklearn():
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    yt = rng.normal(size=(40, 3))
    yp = yt + rng.normal(scale=0.5, size=(40, 3))
    assert mse(yt, yp) == pytest.approx(skm.mean_squared_error(yt, yp))
    assert mae(yt, yp) == pytest.approx(skm.mean_absolute_error(yt, yp))
    assert r2_score(yt, yp) == pytest.approx(skm.r2_score(yt, yp))
    assert r2_score(yt[:, 0], yp[:, 0]) == pytest.approx(skm.r2_score(yt[:, 0], yp[:, 0]))
