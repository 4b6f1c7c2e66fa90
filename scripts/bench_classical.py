"""Benchmark classical_ml against scikit-learn: held-out quality and fit time.

Each row fits our estimator and its scikit-learn namesake with the same
settings on the same data, back to back in one process, and reports the
metric of both and the fit-time ratio (ours / scikit-learn; best of
``--repeats`` fits for fits under a second, timed on the first seed).
Classification: mean held-out accuracy over ``--seeds`` stratified 70/30
splits of iris, wine, breast_cancer and digits (split seed = random_state of
both models), features standardised on the training part (raw counts for
MultinomialNB). Regression: diabetes, first 300 rows for training, mean R^2
over the same random_state values (trees break ties at random).
BLAS runs single-threaded on both sides unless ``--threads`` says otherwise.

Usage: python scripts/bench_classical.py [--quick] [--out docs/bench/classical_ml.md]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from functools import partial


def _set_threads(argv) -> None:
    n = "1"
    if "--threads" in argv:
        n = argv[argv.index("--threads") + 1]
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, n)


# BLAS reads its thread count when numpy is first imported, so the environment is set before
# the imports below (hence their noqa: E402).
_set_threads(sys.argv)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import classical_ml as cm  # noqa: E402

try:
    import sklearn
    from sklearn import (
        cluster,
        datasets,
        decomposition,
        ensemble,
        linear_model,
        manifold,
        mixture,
        naive_bayes,
        neighbors,
        svm,
        tree,
    )
    from sklearn.model_selection import train_test_split
except ImportError:  # pragma: no cover
    sys.exit("bench_classical.py needs scikit-learn (pip install scikit-learn)")


def timed_fit(make, *args, repeats=3):
    """Fit a fresh model; return (model, best wall time in seconds)."""
    best, model = np.inf, None
    for _ in range(repeats):
        m = make()
        t0 = time.perf_counter()
        m.fit(*args)
        dt = time.perf_counter() - t0
        if dt < best:
            best, model = dt, m
        if dt > 1.0:
            break
    return model, best


def load(name, standardize=True, seed=0):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3,
                                          random_state=seed, stratify=y)
    if standardize:
        mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
        sd[sd == 0] = 1.0
        Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    return Xtr, Xte, ytr, yte


def classifier_rows(quick, repeats, seeds):
    # factories take the seed used as random_state (ignored where unused)
    specs = [
        ("LogisticRegression", lambda s: cm.LogisticRegression(max_iter=1000),
         lambda s: linear_model.LogisticRegression(max_iter=1000)),
        ("LinearSVC", lambda s: cm.LinearSVC(), lambda s: svm.LinearSVC()),
        ("SVC(rbf)", lambda s: cm.SVC(), lambda s: svm.SVC()),
        ("SVC(poly)", lambda s: cm.SVC(kernel="poly"),
         lambda s: svm.SVC(kernel="poly")),
        ("DecisionTree(gini)",
         lambda s: cm.DecisionTreeClassifier(random_state=s),
         lambda s: tree.DecisionTreeClassifier(random_state=s)),
        ("DecisionTree(entropy)",
         lambda s: cm.DecisionTreeClassifier(criterion="entropy",
                                             random_state=s),
         lambda s: tree.DecisionTreeClassifier(criterion="entropy",
                                               random_state=s)),
        ("RandomForest(100)",
         lambda s: cm.RandomForestClassifier(100, random_state=s),
         lambda s: ensemble.RandomForestClassifier(100, random_state=s)),
        ("KNeighbors(5)", lambda s: cm.KNeighborsClassifier(),
         lambda s: neighbors.KNeighborsClassifier()),
        ("KNeighbors(5, distance)",
         lambda s: cm.KNeighborsClassifier(weights="distance"),
         lambda s: neighbors.KNeighborsClassifier(weights="distance")),
        ("GaussianNB", lambda s: cm.GaussianNB(),
         lambda s: naive_bayes.GaussianNB()),
    ]
    names = ("iris", "wine") if quick else ("iris", "wine", "breast_cancer",
                                            "digits")
    rows = []
    for ds in names:
        splits = [load(ds, seed=s) for s in range(seeds)]
        for label, ours, ref in specs:
            rows.append(_compare_seeds(label, ds, ours, ref, splits, repeats))
        if ds == "digits":
            raw = [load(ds, standardize=False, seed=s) for s in range(seeds)]
            rows.append(_compare_seeds("MultinomialNB", ds,
                                       lambda s: cm.MultinomialNB(),
                                       lambda s: naive_bayes.MultinomialNB(),
                                       raw, repeats))
    return rows


def _compare_seeds(label, ds, ours, ref, splits, repeats):
    """Mean held-out accuracy over splits; fit time on the first split."""
    acc_o, acc_r, t_o, t_r = [], [], 0.0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s, (Xtr, Xte, ytr, yte) in enumerate(splits):
            rep = repeats if s == 0 else 1
            m_o, dt_o = timed_fit(partial(ours, s), Xtr, ytr, repeats=rep)
            m_r, dt_r = timed_fit(partial(ref, s), Xtr, ytr, repeats=rep)
            if s == 0:
                t_o, t_r = dt_o, dt_r
            acc_o.append(m_o.score(Xte, yte))
            acc_r.append(m_r.score(Xte, yte))
    a, b = float(np.mean(acc_o)), float(np.mean(acc_r))
    return (label, ds, f"accuracy ({len(splits)} splits)", f"{a:.4f}",
            f"{b:.4f}", f"{a - b:+.4f}", t_o, t_r)


def regression_rows(repeats, seeds):
    X, y = datasets.load_diabetes(return_X_y=True)
    tr, te = (X[:300], y[:300]), (X[300:], y[300:])
    specs = [
        ("LinearRegression", lambda s: cm.LinearRegression(),
         lambda s: linear_model.LinearRegression()),
        ("LinearRegression(gd)", lambda s: cm.LinearRegression(solver="gd"),
         lambda s: linear_model.LinearRegression()),
        ("Ridge(1.0)", lambda s: cm.Ridge(), lambda s: linear_model.Ridge()),
        ("DecisionTreeRegressor(depth 4)",
         lambda s: cm.DecisionTreeRegressor(max_depth=4, random_state=s),
         lambda s: tree.DecisionTreeRegressor(max_depth=4, random_state=s)),
        ("RandomForestRegressor(100)",
         lambda s: cm.RandomForestRegressor(100, random_state=s),
         lambda s: ensemble.RandomForestRegressor(100, random_state=s)),
    ]
    rows = []
    for label, ours, ref in specs:
        r2_o, r2_r = [], []
        for s in range(seeds):
            rep = repeats if s == 0 else 1
            m_o, dt_o = timed_fit(partial(ours, s), *tr, repeats=rep)
            m_r, dt_r = timed_fit(partial(ref, s), *tr, repeats=rep)
            if s == 0:
                t_o, t_r = dt_o, dt_r
            r2_o.append(m_o.score(*te))
            r2_r.append(m_r.score(*te))
        a, b = float(np.mean(r2_o)), float(np.mean(r2_r))
        rows.append((label, "diabetes", f"R2 ({seeds} seeds)", f"{a:.4f}",
                     f"{b:.4f}", f"{a - b:+.4f}", t_o, t_r))
    return rows


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
            partial(cm.GaussianMixture, 3, covariance_type=cov, n_init=5,
                    random_state=0),
            partial(mixture.GaussianMixture, 3, covariance_type=cov, n_init=5,
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
    rows.append(("TSNE(exact) vs TSNE(exact)", f"digits[{n}]",
                 "trustworthiness(5)", f"{a:.4f}", f"{b:.4f}", f"{a - b:+.4f}",
                 t_o, t_r))
    ts_b, t_b = timed_fit(lambda: manifold.TSNE(random_state=0), Xs,
                          repeats=1)
    c = tw(Xs, ts_b.embedding_, n_neighbors=5)
    rows.append(("TSNE(exact) vs TSNE(barnes_hut)", f"digits[{n}]",
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
    parser.add_argument("--seeds", type=int, default=10,
                        help="splits / random_state values to average over")
    parser.add_argument("--threads", default="1",
                        help="BLAS threads for both sides (default 1)")
    parser.add_argument("--out", help="also write the table to this file")
    args = parser.parse_args()
    t0 = time.perf_counter()
    rows = classifier_rows(args.quick, args.repeats, args.seeds)
    rows += regression_rows(args.repeats, args.seeds)
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
