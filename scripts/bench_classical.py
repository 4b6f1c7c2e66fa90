"""Benchmark classical_ml against scikit-learn: held-out quality and fit time.

Each row fits our estimator and its scikit-learn namesake with the same
settings on the same split, back to back in one process, and reports the
metric of both and the fit-time ratio (ours / scikit-learn; best of
``--repeats`` fits for fits under a second). Classification: stratified 70/30
split of iris, wine, breast_cancer and digits, features standardised on the
training part (raw counts for MultinomialNB). Regression: diabetes, first
300 rows for training. BLAS runs single-threaded on both sides unless
``--threads`` says otherwise.

Usage: python scripts/bench_classical.py [--quick] [--out docs/bench/classical_ml.md]
"""
from __future__ import annotations

import argparse
import os
import sys


def _set_threads(argv) -> None:
    n = "1"
    if "--threads" in argv:
        n = argv[argv.index("--threads") + 1]
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, n)


_set_threads(sys.argv)

import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import classical_ml as cm  # noqa: E402

try:
    import sklearn
    from sklearn import (cluster, datasets, decomposition, ensemble,  # noqa
                         linear_model, manifold, mixture, naive_bayes,
                         neighbors, svm, tree)
    from sklearn.model_selection import train_test_split
except ImportError:  # pragma: no cover
    sys.exit("bench_classical.py needs scikit-learn (pip install scikit-learn)")


def timed_fit(make, *args, repeats=3):
    """Fit a fresh model; return (model, best wall time in seconds)."""
    best, model = np.inf, None
    for r in range(repeats):
        m = make()
        t0 = time.perf_counter()
        m.fit(*args)
        dt = time.perf_counter() - t0
        if dt < best:
            best, model = dt, m
        if dt > 1.0:
            break
    return model, best


def load(name, standardize=True):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0,
                                          stratify=y)
    if standardize:
        mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
        sd[sd == 0] = 1.0
        Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    return Xtr, Xte, ytr, yte


def classifier_rows(quick, repeats):
    specs = [
        ("LogisticRegression", lambda: cm.LogisticRegression(max_iter=1000),
         lambda: linear_model.LogisticRegression(max_iter=1000)),
        ("LinearSVC", cm.LinearSVC, svm.LinearSVC),
        ("SVC(rbf)", cm.SVC, svm.SVC),
        ("SVC(poly)", lambda: cm.SVC(kernel="poly"),
         lambda: svm.SVC(kernel="poly")),
        ("DecisionTree(gini)", lambda: cm.DecisionTreeClassifier(random_state=0),
         lambda: tree.DecisionTreeClassifier(random_state=0)),
        ("DecisionTree(entropy)",
         lambda: cm.DecisionTreeClassifier(criterion="entropy", random_state=0),
         lambda: tree.DecisionTreeClassifier(criterion="entropy",
                                             random_state=0)),
        ("RandomForest(100)",
         lambda: cm.RandomForestClassifier(100, random_state=0),
         lambda: ensemble.RandomForestClassifier(100, random_state=0)),
        ("KNeighbors(5)", cm.KNeighborsClassifier,
         neighbors.KNeighborsClassifier),
        ("KNeighbors(5, distance)",
         lambda: cm.KNeighborsClassifier(weights="distance"),
         lambda: neighbors.KNeighborsClassifier(weights="distance")),
        ("GaussianNB", cm.GaussianNB, naive_bayes.GaussianNB),
    ]
    names = ("iris", "wine") if quick else ("iris", "wine", "breast_cancer",
                                            "digits")
    rows = []
    for ds in names:
        Xtr, Xte, ytr, yte = load(ds)
        for label, ours, ref in specs:
            rows.append(_compare(label, ds, "accuracy", ours, ref,
                                 (Xtr, ytr), lambda m: m.score(Xte, yte),
                                 repeats))
        if ds == "digits":
            Rtr, Rte, rtr, rte = load(ds, standardize=False)
            rows.append(_compare("MultinomialNB", ds, "accuracy",
                                 cm.MultinomialNB, naive_bayes.MultinomialNB,
                                 (Rtr, rtr), lambda m: m.score(Rte, rte),
                                 repeats))
    return rows


def regression_rows(repeats):
    X, y = datasets.load_diabetes(return_X_y=True)
    tr, te = (X[:300], y[:300]), (X[300:], y[300:])
    specs = [
        ("LinearRegression", cm.LinearRegression,
         linear_model.LinearRegression),
        ("LinearRegression(gd)", lambda: cm.LinearRegression(solver="gd"),
         linear_model.LinearRegression),
        ("Ridge(1.0)", cm.Ridge, linear_model.Ridge),
        ("DecisionTreeRegressor(depth 4)",
         lambda: cm.DecisionTreeRegressor(max_depth=4, random_state=0),
         lambda: tree.DecisionTreeRegressor(max_depth=4, random_state=0)),
        ("RandomForestRegressor(100)",
         lambda: cm.RandomForestRegressor(100, random_state=0),
         lambda: ensemble.RandomForestRegressor(100, random_state=0)),
    ]
    return [_compare(label, "diabetes", "R2", ours, ref, tr,
                     lambda m: m.score(*te), repeats)
            for label, ours, ref in specs]


def unsupervised_rows(quick, repeats):
    iris = datasets.load_iris(return_X_y=True)[0]
    digits, dlabels = datasets.load_digits(return_X_y=True)
    rows = [
        _compare("KMeans(3, n_init=10)", "iris", "inertia",
                 lambda: cm.KMeans(3, n_init=10, random_state=0),
                 lambda: cluster.KMeans(3, n_init=10, random_state=0),
                 (iris,), lambda m: m.inertia_, repeats),
        _compare("KMeans(10, n_init=10)", "digits", "inertia",
                 lambda: cm.KMeans(10, n_init=10, random_state=0),
                 lambda: cluster.KMeans(10, n_init=10, random_state=0),
                 (digits,), lambda m: m.inertia_, repeats),
    ]
    for cov in ("full", "diag"):
        rows.append(_compare(
            f"GaussianMixture(3, {cov}, n_init=5)", "iris", "mean log-lik",
            lambda: cm.GaussianMixture(3, covariance_type=cov, n_init=5,
                                       random_state=0),
            lambda: mixture.GaussianMixture(3, covariance_type=cov, n_init=5,
                                            random_state=0),
            (iris,), lambda m: m.score(iris), repeats))
    pca_o, t_o = timed_fit(lambda: cm.PCA(10), digits, repeats=repeats)
    pca_r, t_r = timed_fit(lambda: decomposition.PCA(10, svd_solver="full"),
                           digits, repeats=repeats)
    dev = np.abs(np.abs(pca_o.components_) - np.abs(pca_r.components_)).max()
    rows.append(("PCA(10)", "digits", "max abs component diff (up to sign)",
                 f"{dev:.1e}", "0", "", t_o, t_r))
    n = 300 if quick else 500
    keep = np.random.default_rng(0).choice(len(digits), n, replace=False)
    Xs = digits[keep]
    tw = manifold.trustworthiness
    ts_o, t_o = timed_fit(lambda: cm.TSNE(random_state=0), Xs, repeats=1)
    ts_r, t_r = timed_fit(lambda: manifold.TSNE(method="exact",
                                                random_state=0), Xs, repeats=1)
    a, b = tw(Xs, ts_o.embedding_, n_neighbors=5), tw(
        Xs, ts_r.embedding_, n_neighbors=5)
    rows.append((f"TSNE(exact) vs TSNE(exact)", f"digits[{n}]",
                 "trustworthiness(5)", f"{a:.4f}", f"{b:.4f}", f"{a - b:+.4f}",
                 t_o, t_r))
    ts_b, t_b = timed_fit(lambda: manifold.TSNE(random_state=0), Xs,
                          repeats=1)
    c = tw(Xs, ts_b.embedding_, n_neighbors=5)
    rows.append((f"TSNE(exact) vs TSNE(barnes_hut)", f"digits[{n}]",
                 "trustworthiness(5)", f"{a:.4f}", f"{c:.4f}", f"{a - c:+.4f}",
                 t_o, t_b))
    return rows


def _compare(label, ds, metric, ours, ref, fit_args, measure, repeats):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m_o, t_o = timed_fit(ours, *fit_args, repeats=repeats)
        m_r, t_r = timed_fit(ref, *fit_args, repeats=repeats)
    a, b = measure(m_o), measure(m_r)
    if metric == "inertia" or metric == "mean log-lik":
        diff = f"{(a - b) / abs(b) * 100:+.2f}%"
    else:
        diff = f"{a - b:+.4f}"
    return (label, ds, metric, f"{a:.4f}", f"{b:.4f}", diff, t_o, t_r)


def table(rows) -> str:
    head = ("| model | data | metric | ours | scikit-learn | diff | "
            "ours fit (s) | sklearn fit (s) | time ratio |\n"
            "|---|---|---|---|---|---|---|---|---|\n")
    body = "".join(
        f"| {m} | {d} | {k} | {a} | {b} | {df} | {to:.4f} | {tr:.4f} | "
        f"{to / tr:.1f}x |\n" for m, d, k, a, b, df, to, tr in rows)
    return head + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="iris and wine only, smaller t-SNE")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", default="1",
                        help="BLAS threads for both sides (default 1)")
    parser.add_argument("--out", help="also write the table to this file")
    args = parser.parse_args()
    t0 = time.perf_counter()
    rows = classifier_rows(args.quick, args.repeats)
    rows += regression_rows(args.repeats)
    rows += unsupervised_rows(args.quick, args.repeats)
    text = table(rows)
    info = (f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
            f"Python {platform.python_version()}, BLAS threads "
            f"{os.environ.get('OMP_NUM_THREADS')}; total "
            f"{time.perf_counter() - t0:.0f} s")
    print(text)
    print(info)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n" + info + "\n")


if __name__ == "__main__":
    main()
