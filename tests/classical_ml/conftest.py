"""Shared data for the classical_ml tests: scikit-learn's bundled datasets."""
import numpy as np
import pytest

DATASETS = ("iris", "wine", "breast_cancer", "digits")


def load_split(name, test_size=0.3, seed=0, standardize=True, n_max=None):
    """(X_train, X_test, y_train, y_test), stratified and optionally scaled.

    scikit-learn (a test-only dependency) supplies the data and the split.
    """
    sk_datasets = pytest.importorskip("sklearn.datasets")
    from sklearn.model_selection import train_test_split

    X, y = getattr(sk_datasets, f"load_{name}")(return_X_y=True)
    if n_max is not None and len(X) > n_max:
        keep = np.random.default_rng(seed).choice(len(X), n_max, replace=False)
        X, y = X[keep], y[keep]
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=test_size,
                                          random_state=seed, stratify=y)
    if standardize:
        mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
        sd[sd == 0] = 1.0
        Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    return Xtr, Xte, ytr, yte


@pytest.fixture(scope="session")
def split():
    """Cached ``load_split``."""
    cache = {}

    def get(name, **kw):
        key = (name, tuple(sorted(kw.items())))
        if key not in cache:
            cache[key] = load_split(name, **kw)
        return cache[key]

    return get


@pytest.fixture(scope="module", autouse=True)
def _single_thread_pools():
    """Run these small problems on one BLAS/OpenMP thread: on a small shared
    machine, thread pools oversubscribe the cores and run much slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1):
        yield
