"""Classification and regression metrics on ndarrays (scikit-learn's conventions).

Classification inputs are integer label arrays of shape (N,); `accuracy`
also takes scores of shape (N, C) and uses their argmax. Confusion-matrix
rows are true labels, columns predicted labels.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "accuracy", "confusion_matrix", "precision_recall_f1", "precision_score", "recall_score",
    "f1_score", "jaccard_score", "mse", "mae", "r2_score",
]

_AVERAGES = ("macro", "micro", "weighted", None)


def _pair(y_true, y_pred, fn: str):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{fn}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    if y_true.size == 0:
        raise ValueError(f"{fn}: got empty inputs")
    return y_true, y_pred


def accuracy(y_true, y_pred) -> float:
    """Fraction of exact matches. y_pred may be scores (N, C) when y_true is (N,)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == y_true.ndim + 1:
        y_pred = y_pred.argmax(axis=-1)
    y_true, y_pred = _pair(y_true, y_pred, "accuracy")
    return float(np.mean(y_true == y_pred))


def _encode(y_true, y_pred, labels, fn: str):
    """Map labels to 0..K-1; returns (t, p, labels) with t, p int arrays."""
    y_true, y_pred = _pair(y_true, y_pred, fn)
    if y_true.ndim != 1:
        raise ValueError(f"{fn}: expected 1-D label arrays, got shape {y_true.shape}")
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
    else:
        labels = np.asarray(labels)
        if labels.ndim != 1 or len(np.unique(labels)) != len(labels):
            raise ValueError(f"{fn}: labels must be a 1-D array of distinct values, got {labels}")
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    out = []
    for arr, name in ((y_true, "y_true"), (y_pred, "y_pred")):
        pos = np.clip(np.searchsorted(sorted_labels, arr), 0, len(labels) - 1)
        missing = sorted_labels[pos] != arr
        if missing.any():
            raise ValueError(f"{fn}: {name} contains labels not in labels: {np.unique(arr[missing])}")
        out.append(order[pos])
    return out[0], out[1], labels


def confusion_matrix(y_true, y_pred, labels=None, num_classes: int | None = None) -> np.ndarray:
    """(K, K) int64 counts; C[i, j] = #samples with true label i predicted as j.

    Labels default to the sorted union of y_true and y_pred; `num_classes`
    means labels 0..num_classes-1.
    """
    if num_classes is not None:
        if labels is not None:
            raise ValueError("confusion_matrix: give labels or num_classes, not both")
        labels = np.arange(num_classes)
    t, p, labels = _encode(y_true, y_pred, labels, "confusion_matrix")
    k = len(labels)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


def _safe_div(num, den, zero_division: float):
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), zero_division)


def precision_recall_f1(y_true, y_pred, average: str | None = "macro", labels=None,
                        zero_division: float = 0.0):
    """(precision, recall, f1) as floats, or (K,) arrays when average=None.

    average: "macro" (unweighted class mean), "micro" (global counts),
    "weighted" (mean weighted by class support) or None. A 0/0 ratio
    becomes `zero_division`.
    """
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    tp = np.diag(cm).astype(np.float64)
    pred_pos, support = cm.sum(axis=0), cm.sum(axis=1)
    if average == "micro":
        tp, pred_pos, support = tp.sum(), pred_pos.sum(), support.sum()
    precision = _safe_div(tp, pred_pos, zero_division)
    recall = _safe_div(tp, support, zero_division)
    f1 = _safe_div(2 * tp, pred_pos + support, zero_division)
    if average is None:
        return precision, recall, f1
    if average == "micro":
        return float(precision), float(recall), float(f1)
    weights = support / support.sum() if average == "weighted" else None
    return tuple(float(np.average(m, weights=weights)) for m in (precision, recall, f1))


def precision_score(y_true, y_pred, average: str | None = "macro", labels=None, zero_division=0.0):
    """Precision tp / (tp + fp); see precision_recall_f1."""
    return precision_recall_f1(y_true, y_pred, average, labels, zero_division)[0]


def recall_score(y_true, y_pred, average: str | None = "macro", labels=None, zero_division=0.0):
    """Recall tp / (tp + fn); see precision_recall_f1."""
    return precision_recall_f1(y_true, y_pred, average, labels, zero_division)[1]


def f1_score(y_true, y_pred, average: str | None = "macro", labels=None, zero_division=0.0):
    """F1 = 2 tp / (2 tp + fp + fn); see precision_recall_f1."""
    return precision_recall_f1(y_true, y_pred, average, labels, zero_division)[2]


def jaccard_score(y_true, y_pred, average: str | None = "macro", num_classes: int | None = None,
                  zero_division: float = 0.0):
    """Intersection over union tp / (tp + fp + fn) per class: segmentation's IoU (scikit-learn's name).

    Label arrays of any equal shape (masks (N, H, W) are flattened). average: "macro" (the mean IoU),
    "micro", "weighted" or None for the (K,) per-class array; `num_classes` means labels 0..K-1.
    """
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
    y_true, y_pred = _pair(y_true, y_pred, "jaccard_score")
    cm = confusion_matrix(y_true.ravel(), y_pred.ravel(), num_classes=num_classes)
    tp = np.diag(cm).astype(np.float64)
    union, support = cm.sum(axis=0) + cm.sum(axis=1) - tp, cm.sum(axis=1)
    if average == "micro":
        return float(_safe_div(tp.sum(), union.sum(), zero_division))
    iou = _safe_div(tp, union, zero_division)
    if average is None:
        return iou
    return float(np.average(iou, weights=support / support.sum() if average == "weighted" else None))


def _reg_pair(y_true, y_pred, fn: str):
    y_true, y_pred = _pair(y_true, y_pred, fn)
    return y_true.astype(np.float64), y_pred.astype(np.float64)


def mse(y_true, y_pred) -> float:
    """Mean squared error over all elements."""
    y_true, y_pred = _reg_pair(y_true, y_pred, "mse")
    return float(np.mean((y_true - y_pred) ** 2))


def mae(y_true, y_pred) -> float:
    """Mean absolute error over all elements."""
    y_true, y_pred = _reg_pair(y_true, y_pred, "mae")
    return float(np.mean(np.abs(y_true - y_pred)))


def r2_score(y_true, y_pred) -> float:
    """Coefficient of determination 1 - SS_res / SS_tot.

    y: (N,) or (N, D); for D outputs the per-output scores are averaged.
    A constant target scores 1.0 if predicted exactly, else 0.0.
    """
    y_true, y_pred = _reg_pair(y_true, y_pred, "r2_score")
    if y_true.ndim > 2:
        raise ValueError(f"r2_score: expected shape (N,) or (N, D), got {y_true.shape}")
    if len(y_true) < 2:
        raise ValueError("r2_score: needs at least 2 samples")
    y_true = y_true.reshape(len(y_true), -1)
    y_pred = y_pred.reshape(len(y_pred), -1)
    ss_res = np.sum((y_true - y_pred) ** 2, axis=0)
    ss_tot = np.sum((y_true - y_true.mean(axis=0)) ** 2, axis=0)
    score = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0),
                     np.where(ss_res == 0, 1.0, 0.0))
    return float(score.mean())


def predict_classes(model, x, batch_size: int = 500) -> np.ndarray:
    """argmax over axis 1 of `model`'s output, in eval mode and without a graph, `batch_size` inputs at a time.

    x (N, ...) -> (N,) class ids for logits (N, C), or (N, H, W) for per-pixel logits (N, C, H, W).
    The model's train/eval mode is restored afterwards."""
    from ..autograd import no_grad
    from ..tensor import Tensor
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return np.concatenate([model(Tensor(x[i:i + batch_size])).data.argmax(1)
                                   for i in range(0, len(x), batch_size)])
    finally:
        model.train(was_training)
