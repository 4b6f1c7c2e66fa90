import numpy as np
import pytest

from corenn.utils.data_utils import MinMaxScaler, StandardScaler, batch_iterator, train_val_test_split


def test_batch_iterator_covers_all_samples_once():
    X = np.arange(10)[:, None] * np.ones((1, 3))
    y = np.arange(10)
    batches = list(batch_iterator(X, y, batch_size=4, seed=0))
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen) == list(range(10))
    assert not np.array_equal(seen, np.arange(10))  # shuffled
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, 0], yb)  # pairs stay aligned


def test_batch_iterator_seeded_unshuffled_and_drop_last():
    X = np.arange(10)
    a = np.concatenate(list(batch_iterator(X, batch_size=3, seed=1)))
    b = np.concatenate(list(batch_iterator(X, batch_size=3, seed=1)))
    np.testing.assert_array_equal(a, b)
    plain = list(batch_iterator(X, batch_size=3, shuffle=False))
    np.testing.assert_array_equal(np.concatenate(plain), X)
    dropped = list(batch_iterator(X, batch_size=3, shuffle=False, drop_last=True))
    assert [len(b) for b in dropped] == [3, 3, 3]
    assert list(batch_iterator(X[:2], batch_size=3, drop_last=True)) == []


def test_batch_iterator_errors():
    with pytest.raises(ValueError, match="X has 3 samples but y has 2"):
        list(batch_iterator(np.zeros(3), np.zeros(2)))
    with pytest.raises(ValueError, match="batch_size"):
        list(batch_iterator(np.zeros(3), batch_size=0))


def test_split_disjoint_complete_and_seeded():
    X = np.arange(100)[:, None].astype(float)
    y = np.arange(100)
    parts = train_val_test_split(X, y, val_frac=0.2, test_frac=0.1, seed=3)
    Xtr, ytr, Xva, yva, Xte, yte = parts
    assert (len(ytr), len(yva), len(yte)) == (70, 20, 10)
    all_idx = np.concatenate([ytr, yva, yte])
    assert sorted(all_idx) == list(range(100))
    for Xs, ys in ((Xtr, ytr), (Xva, yva), (Xte, yte)):
        np.testing.assert_array_equal(Xs[:, 0], ys)
    again = train_val_test_split(X, y, val_frac=0.2, test_frac=0.1, seed=3)
    for p, q in zip(parts, again):
        np.testing.assert_array_equal(p, q)
    other = train_val_test_split(X, y, val_frac=0.2, test_frac=0.1, seed=4)
    assert not np.array_equal(other[1], ytr)
    assert len(train_val_test_split(X, seed=0)) == 3


def test_split_stratified_keeps_proportions():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    X = np.arange(100)
    Xtr, ytr, Xva, yva, Xte, yte = train_val_test_split(X, y, 0.2, 0.1, seed=0, stratify=y)
    np.testing.assert_array_equal(np.bincount(yva), [10, 6, 4])
    np.testing.assert_array_equal(np.bincount(yte), [5, 3, 2])
    np.testing.assert_array_equal(np.bincount(ytr), [35, 21, 14])
    assert sorted(np.concatenate([Xtr, Xva, Xte])) == list(range(100))
    np.testing.assert_array_equal(y[Xtr], ytr)


def test_split_errors():
    with pytest.raises(ValueError, match="< 1"):
        train_val_test_split(np.zeros(10), val_frac=0.5, test_frac=0.5)
    with pytest.raises(ValueError, match="val_frac"):
        train_val_test_split(np.zeros(10), val_frac=-0.1)
    with pytest.raises(ValueError, match="stratify"):
        train_val_test_split(np.zeros(10), stratify=np.zeros(9))


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_scaler_round_trip_and_errors(cls):
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 5.0, size=(50, 4))
    X[:, 2] = 7.0  # zero-variance feature
    s = cls()
    with pytest.raises(RuntimeError, match="not fitted yet"):
        s.transform(X)
    Z = s.fit_transform(X)
    assert np.all(np.isfinite(Z))
    np.testing.assert_allclose(s.inverse_transform(Z), X, rtol=1e-12)
    np.testing.assert_allclose(s.transform(X), Z)
    with pytest.raises(ValueError, match="X has 3 features, but the scaler was fitted with 4"):
        s.transform(X[:, :3])
    with pytest.raises(ValueError, match="2-D"):
        s.fit(np.zeros(5))


def test_standard_scaler_statistics():
    X = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    Z = StandardScaler().fit_transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z[:, 0].std(), 1.0)
    np.testing.assert_array_equal(Z[:, 1], 0.0)
    X32 = X.astype(np.float32)
    assert StandardScaler().fit_transform(X32).dtype == np.float32


def test_minmax_scaler_range():
    X = np.array([[0.0, -1.0, 2.0], [10.0, 1.0, 2.0], [5.0, 0.0, 2.0]])
    Z = MinMaxScaler(feature_range=(-1, 1)).fit_transform(X)
    np.testing.assert_allclose(Z, [[-1, -1, -1], [1, 1, -1], [0, 0, -1]])
    with pytest.raises(ValueError, match="min < max"):
        MinMaxScaler((1, 1))


def test_scalers_match_sklearn():
    pre = pytest.importorskip("sklearn.preprocessing")
    X = np.random.default_rng(1).normal(size=(30, 3))
    X[:, 1] = -2.0
    np.testing.assert_allclose(StandardScaler().fit_transform(X), pre.StandardScaler().fit_transform(X), atol=1e-12)
    np.testing.assert_allclose(MinMaxScaler().fit_transform(X), pre.MinMaxScaler().fit_transform(X), atol=1e-12)
