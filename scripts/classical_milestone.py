"""Milestone figures for classical_ml (seed Phase 4).

Makes two PNGs under docs/:
  gmm_clusters.png  EM for a Gaussian mixture on 2-D data, with each
                    component's 1-, 2- and 3-sigma covariance ellipses;
  tsne_digits.png   exact t-SNE map of scikit-learn's 8x8 digits.

Usage: python scripts/classical_milestone.py [--out docs] [--tsne-points 1797]
Needs matplotlib, and scikit-learn for the digits data and trustworthiness.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from classical_ml import TSNE, GaussianMixture


def make_blobs_2d(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Four anisotropic 2-D Gaussians (1,400 points) and their true labels."""
    means = np.array([[0.0, 0.0], [5.0, 1.0], [1.5, 5.5], [6.5, 6.0]])
    covs = np.array([[[1.6, 1.0], [1.0, 1.0]],
                     [[0.4, 0.0], [0.0, 1.8]],
                     [[2.0, -0.9], [-0.9, 0.8]],
                     [[0.6, 0.3], [0.3, 0.6]]])
    sizes = [400, 300, 400, 300]
    X = np.vstack([rng.multivariate_normal(m, c, s)
                   for m, c, s in zip(means, covs, sizes)])
    y = np.repeat(np.arange(4), sizes)
    return X, y


def plot_gmm(path: str, seed: int = 0) -> dict:
    import matplotlib.pyplot as plt
    from matplotlib.patches import Ellipse

    rng = np.random.default_rng(seed)
    X, _ = make_blobs_2d(rng)
    t0 = time.perf_counter()
    gmm = GaussianMixture(n_components=4, covariance_type="full",
                          n_init=3, random_state=seed).fit(X)
    fit_s = time.perf_counter() - t0
    labels = gmm.predict(X)
    bics = {k: GaussianMixture(k, random_state=seed).fit(X).bic(X)
            for k in range(1, 8)}

    fig, (ax, ax_bic) = plt.subplots(1, 2, figsize=(12, 5.2),
                                     gridspec_kw={"width_ratios": [2, 1]})
    colors = plt.cm.tab10(np.arange(gmm.n_components))
    ax.scatter(X[:, 0], X[:, 1], c=colors[labels], s=6, alpha=0.55,
               linewidths=0)
    for k in range(gmm.n_components):
        vals, vecs = np.linalg.eigh(gmm.covariances_[k])
        angle = np.degrees(np.arctan2(vecs[1, -1], vecs[0, -1]))
        for n_sigma in (1, 2, 3):
            w, h = 2 * n_sigma * np.sqrt(vals[::-1])
            ax.add_patch(Ellipse(gmm.means_[k], w, h, angle=angle,
                                 fill=False, lw=1.6 if n_sigma == 1 else 1.0,
                                 ls="-" if n_sigma == 1 else "--",
                                 color=colors[k]))
        ax.plot(*gmm.means_[k], marker="x", color="k", ms=9, mew=2)
        ax.annotate(f"w={gmm.weights_[k]:.2f}", gmm.means_[k],
                    textcoords="offset points", xytext=(8, 8), fontsize=9)
    ax.set_title(f"GaussianMixture(4, full) by EM: mean log-likelihood "
                 f"{gmm.score(X):.3f}\nellipses at 1, 2, 3 standard "
                 f"deviations; x = component means, w = weights")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_aspect("equal")
    ks = list(bics)
    ax_bic.plot(ks, [bics[k] for k in ks], "o-")
    ax_bic.axvline(min(bics, key=bics.get), color="gray", ls=":")
    ax_bic.set_xlabel("n_components")
    ax_bic.set_ylabel("BIC (lower is better)")
    ax_bic.set_title("Model selection by BIC")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return {"log_likelihood": gmm.score(X), "bic": gmm.bic(X),
            "n_iter": gmm.n_iter_, "fit_s": fit_s,
            "best_k_by_bic": min(bics, key=bics.get)}


def plot_tsne(path: str, n_points: int, seed: int = 0) -> dict:
    import matplotlib.pyplot as plt
    from sklearn.datasets import load_digits
    from sklearn.manifold import trustworthiness

    X, y = load_digits(return_X_y=True)
    if n_points < len(X):
        keep = np.random.default_rng(seed).choice(len(X), n_points,
                                                  replace=False)
        X, y = X[keep], y[keep]
    t0 = time.perf_counter()
    model = TSNE(n_components=2, perplexity=30.0, random_state=seed)
    emb = model.fit_transform(X)
    fit_s = time.perf_counter() - t0
    tw = trustworthiness(X, emb, n_neighbors=5)

    fig, ax = plt.subplots(figsize=(8, 7.5))
    sc = ax.scatter(emb[:, 0], emb[:, 1], c=y, cmap="tab10", s=7, alpha=0.8,
                    linewidths=0, vmin=-0.5, vmax=9.5)
    for d in range(10):
        cx, cy = np.median(emb[y == d], axis=0)
        ax.text(cx, cy, str(d), fontsize=16, weight="bold", ha="center",
                va="center",
                bbox=dict(boxstyle="round", fc="white", alpha=0.7, lw=0))
    fig.colorbar(sc, ax=ax, ticks=range(10), label="digit")
    ax.set_title(f"Exact t-SNE of {len(X)} digits (perplexity 30): "
                 f"KL {model.kl_divergence_:.3f}, trustworthiness {tw:.3f}")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return {"n": len(X), "kl": model.kl_divergence_, "trustworthiness": tw,
            "fit_s": fit_s}


def main() -> None:
    import matplotlib
    matplotlib.use("Agg")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(__file__), "..", "docs"))
    parser.add_argument("--tsne-points", type=int, default=1797)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    g = plot_gmm(os.path.join(args.out, "gmm_clusters.png"), args.seed)
    print(f"gmm_clusters.png: mean log-likelihood {g['log_likelihood']:.4f}, "
          f"BIC {g['bic']:.1f}, {g['n_iter']} EM iterations, "
          f"fit {g['fit_s']:.2f} s, BIC picks k={g['best_k_by_bic']}")
    t = plot_tsne(os.path.join(args.out, "tsne_digits.png"),
                  args.tsne_points, args.seed)
    print(f"tsne_digits.png: {t['n']} points, KL {t['kl']:.4f}, "
          f"trustworthiness(k=5) {t['trustworthiness']:.4f}, "
          f"fit {t['fit_s']:.1f} s")


if __name__ == "__main__":
    main()
