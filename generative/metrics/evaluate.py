"""``python -m generative eval``: the numbers for one trained model, each beside the floor real data reaches.

    FID (corenn classifier)      samples (n) vs real test       | floor: real train (n) vs real test
    KID (corenn classifier)      same sets, mean +- std         | same floor
    label accuracy               classifier(sample(y)) == y     | floor: the classifier's accuracy on real test
    NLL bound (nats)             -mean log p(x) bound on the dynamically binarised test set (models that have
                                 ``log_likelihood_bound(x, k, rng) -> (B,)``, e.g. the VAE's IWAE bound)

FID is biased upward at small n, so the floor uses the same n as the samples; never compare these numbers with
published (Inception) FIDs.
"""
from __future__ import annotations

import time

import numpy as np

import corenn
from generative.core.data import ImageDataset, to_data_range

from .feature_classifier import FeatureClassifier, extract_features, predict_labels
from .fid import fid_from_features, kid_from_features

__all__ = ["sample_in_batches", "balanced_labels", "label_accuracy", "nll_bound", "evaluate", "format_table"]


def balanced_labels(n: int, num_classes: int) -> np.ndarray:
    """0, 1, ..., K-1, 0, 1, ... (n,) int64: every class equally often, like the test set."""
    return np.arange(n, dtype=np.int64) % num_classes


def sample_in_batches(model, n: int, labels: np.ndarray | None, rng: np.random.Generator, batch_size: int = 250,
                      options: dict | None = None, progress: bool = False) -> np.ndarray:
    """``n`` samples (n, C, H, W) in [0, 1] from ``model.sample`` in batches, under no_grad and eval mode."""
    from tqdm import tqdm

    out = []
    model.eval()
    with corenn.no_grad():
        for start in tqdm(range(0, n, batch_size), desc="sampling", disable=not progress, dynamic_ncols=True):
            count = min(batch_size, n - start)
            part = None if labels is None else labels[start:start + count]
            images = np.asarray(model.sample(count, labels=part, rng=rng, **(options or {})), dtype=np.float32)
            if images.shape != (count, *model.image_shape):
                raise ValueError(f"{model.name}.sample({count}) returned shape {images.shape}, expected "
                                 f"{(count, *model.image_shape)}")
            if not np.isfinite(images).all():
                raise FloatingPointError(f"{model.name}.sample returned NaN/inf pixels")
            out.append(images)
    return np.concatenate(out)


def label_accuracy(classifier: FeatureClassifier, images, labels) -> float:
    """Fraction of images the classifier labels as ``labels``."""
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(f"label_accuracy: need one label per image, got {labels.shape} for {len(images)} images")
    return float((predict_labels(classifier, images) == labels).mean())


def nll_bound(model, x_unit: np.ndarray, k: int, rng: np.random.Generator, batch_size: int = 100,
              progress: bool = False) -> float:
    """-mean over images of ``model.log_likelihood_bound(x, k, rng)``, on a fresh Bernoulli draw of x in [0, 1]."""
    from tqdm import tqdm

    x_bin = to_data_range(x_unit, "binary", rng)
    total = 0.0
    model.eval()
    with corenn.no_grad():
        for start in tqdm(range(0, len(x_bin), batch_size), desc=f"NLL bound (k={k})", disable=not progress,
                          dynamic_ncols=True):
            batch = x_bin[start:start + batch_size]
            bound = np.asarray(model.log_likelihood_bound(batch, k, rng), dtype=np.float64)
            if bound.shape != (len(batch),):
                raise ValueError(f"{model.name}.log_likelihood_bound returned shape {bound.shape}, expected "
                                 f"({len(batch)},) (one bound per image, in nats)")
            if not np.isfinite(bound).all():
                raise FloatingPointError(f"{model.name}.log_likelihood_bound returned NaN/inf")
            total += bound.sum()
    return float(-total / len(x_bin))


def evaluate(model, dataset: ImageDataset, classifier: FeatureClassifier, n: int = 10000, seed: int = 0,
             batch_size: int = 250, sample_options: dict | None = None, kid_subsets: int = 100,
             kid_subset_size: int = 1000, nll_k: int = 100, nll_n: int | None = None,
             progress: bool = True) -> dict:
    """The metrics as {row name: (model value, floor value or None, note)} (KID values are (mean, std)), plus
    "_seconds" timings."""
    if tuple(model.image_shape) != classifier.image_shape:
        raise ValueError(f"the model makes {model.image_shape} images but the classifier reads "
                         f"{classifier.image_shape}; train a classifier for this data")
    if n < 2:
        raise ValueError(f"eval needs n >= 2 samples, got {n}")
    corenn.manual_seed(seed)
    t0 = time.perf_counter()
    labels = balanced_labels(n, model.num_classes) if model.conditional else None
    samples = sample_in_batches(model, n, labels, np.random.default_rng([seed, 0]), batch_size, sample_options,
                                progress)
    t_sample = time.perf_counter() - t0
    pick = np.random.default_rng([seed, 3]).choice
    real_train = dataset.x_train[pick(len(dataset.x_train), min(n, len(dataset.x_train)), replace=False)]
    f_test = extract_features(classifier, dataset.x_test)
    f_train = extract_features(classifier, real_train)
    f_samples = extract_features(classifier, samples)
    kid = {"num_subsets": kid_subsets, "subset_size": kid_subset_size}
    kid_model = kid_from_features(f_samples, f_test, rng=np.random.default_rng([seed, 1]), **kid)
    kid_floor = kid_from_features(f_train, f_test, rng=np.random.default_rng([seed, 1]), **kid)
    rows = {
        f"FID (corenn classifier), n={n}": (fid_from_features(f_samples, f_test), fid_from_features(f_train, f_test),
                                            "samples vs real test | real train vs real test"),
        "KID (corenn classifier)": (kid_model, kid_floor, f"mean +- std over {kid_subsets} subsets of "
                                                          f"{min(kid_subset_size, n, len(f_test))}"),
    }
    if model.conditional:
        rows["label accuracy of conditional samples"] = (
            label_accuracy(classifier, samples, labels), label_accuracy(classifier, dataset.x_test, dataset.y_test),
            "classifier(sample(y)) == y | classifier on real test")
    if callable(getattr(model, "log_likelihood_bound", None)):
        x = dataset.x_test if nll_n is None else dataset.x_test[:nll_n]
        rows[f"NLL bound (nats), k={nll_k}"] = (
            nll_bound(model, x, nll_k, np.random.default_rng([seed, 2]), progress=progress), None,
            f"dynamically binarised test set, {len(x)} images")
    rows["_seconds"] = {"sampling": t_sample, "total": time.perf_counter() - t0}
    return rows


def format_table(rows: dict) -> str:
    """The rows of ``evaluate`` as an aligned text table."""
    def cell(v):
        if v is None:
            return "-"
        if isinstance(v, tuple):
            return f"{v[0]:.4g} +- {v[1]:.3g}"
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    body = [(name, cell(row[0]), cell(row[1]), row[2]) for name, row in rows.items() if not name.startswith("_")]
    header = ("metric", "model", "floor (real data)", "what")
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    seconds = rows.get("_seconds")
    if seconds:
        lines.append(f"(sampling {seconds['sampling']:.1f} s, total {seconds['total']:.1f} s)")
    return "\n".join(lines)
