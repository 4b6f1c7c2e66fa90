"""SVM probability estimates: Platt sigmoids and pairwise coupling (libsvm).

``fit_sigmoid`` fits P(y=+1 | f) = 1 / (1 + exp(A f + B)) to decision
values by Newton's method with backtracking (Lin, Lin and Weng 2007).
``couple`` turns pairwise probabilities into class probabilities with
Wu, Lin and Weng's second method, solved for all samples in one batched
linear solve.
"""
from __future__ import annotations

import numpy as np

MIN_PROB = 1e-7


def fit_sigmoid(dec: np.ndarray, positive: np.ndarray, max_iter: int = 100
                ) -> tuple[float, float]:
    """dec: (n,) decision values; positive: (n,) bool labels -> (A, B)."""
    prior1 = float(positive.sum())
    prior0 = float(positive.size - prior1)
    hi, lo = (prior1 + 1.0) / (prior1 + 2.0), 1.0 / (prior0 + 2.0)
    t = np.where(positive, hi, lo)
    A, B = 0.0, float(np.log((prior0 + 1.0) / (prior1 + 1.0)))

    def objective(A, B):
        f = dec * A + B
        return float(np.sum(np.where(f >= 0, t * f + np.log1p(np.exp(-np.abs(f))),
                                     (t - 1.0) * f + np.log1p(np.exp(-np.abs(f))))))

    fval = objective(A, B)
    for _ in range(max_iter):
        f = dec * A + B
        q = 1.0 / (1.0 + np.exp(-np.abs(f)))         # sigmoid(|f|)
        p = np.where(f >= 0, 1.0 - q, q)              # 1 / (1 + exp(f))
        d2 = p * (1.0 - p)
        h11 = 1e-12 + np.sum(dec * dec * d2)
        h22 = 1e-12 + np.sum(d2)
        h21 = np.sum(dec * d2)
        d1 = t - p
        g1, g2 = np.sum(dec * d1), np.sum(d1)
        if abs(g1) < 1e-5 and abs(g2) < 1e-5:
            break
        det = h11 * h22 - h21 * h21
        dA = -(h22 * g1 - h21 * g2) / det
        dB = -(-h21 * g1 + h11 * g2) / det
        gd = g1 * dA + g2 * dB
        step = 1.0
        while step >= 1e-10:
            new_f = objective(A + step * dA, B + step * dB)
            if new_f < fval + 1e-4 * step * gd:
                A, B, fval = A + step * dA, B + step * dB, new_f
                break
            step /= 2.0
        else:
            break
    return A, B


def sigmoid_predict(dec: np.ndarray, A: float, B: float) -> np.ndarray:
    """P(y=+1 | dec) = 1 / (1 + exp(A dec + B)), computed stably."""
    f = dec * A + B
    e = np.exp(-np.abs(f))
    return np.where(f >= 0, e / (1.0 + e), 1.0 / (1.0 + e))


def couple(r: np.ndarray, n_classes: int) -> np.ndarray:
    """Pairwise probabilities to class probabilities.

    r: (n, n_pairs) with r[:, k] = P(class a | a or b) for the k-th pair
    (a < b) in lexicographic order. Returns (n, n_classes).
    """
    n = r.shape[0]
    R = np.zeros((n, n_classes, n_classes))       # R[:, a, b] = P(a | a, b)
    k = 0
    for a in range(n_classes):
        for b in range(a + 1, n_classes):
            rk = np.clip(r[:, k], MIN_PROB, 1.0 - MIN_PROB)
            R[:, a, b], R[:, b, a] = rk, 1.0 - rk
            k += 1
    Rt = np.swapaxes(R, 1, 2)                      # Rt[:, a, b] = R[:, b, a]
    Q = -Rt * R                                    # Q_ab = -r_ba r_ab
    diag = np.sum(Rt * Rt, axis=2)                 # Q_aa = sum_b r_ba^2
    idx = np.arange(n_classes)
    Q[:, idx, idx] = diag
    M = np.zeros((n, n_classes + 1, n_classes + 1))
    M[:, :n_classes, :n_classes] = Q
    M[:, :n_classes, n_classes] = 1.0
    M[:, n_classes, :n_classes] = 1.0
    rhs = np.zeros((n, n_classes + 1, 1))
    rhs[:, n_classes, 0] = 1.0
    p = np.linalg.solve(M, rhs)[:, :n_classes, 0]
    np.clip(p, 0.0, None, out=p)
    return p / p.sum(axis=1, keepdims=True)
