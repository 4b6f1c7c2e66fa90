"""SMO solver for the binary C-SVM dual (libsvm's second-order working set).

Solves  min_a 0.5 a^T Q a - sum(a)  s.t.  0 <= a_i <= C,  y^T a = 0,
with Q_ij = y_i y_j K_ij, following Fan, Chen and Lin (JMLR 2005). Each
iteration picks the maximal-violating index i and the j giving the largest
second-order decrease, updates the pair analytically, and refreshes the
whole gradient with two kernel columns: O(n) vectorised work per step.
"""
from __future__ import annotations

import numpy as np

TAU = 1e-12


def smo_solve(K: np.ndarray, y: np.ndarray, C: float, tol: float = 1e-3,
              max_iter: int | None = None) -> tuple[np.ndarray, float, int, bool]:
    """Binary SVM dual. K: (n, n) kernel; y: (n,) in {-1, +1}.

    Returns (alpha (n,), rho, n_iter, converged); the decision function is
    ``sum_i alpha_i y_i K(x_i, x) - rho``.
    """
    n = y.shape[0]
    y = y.astype(np.float64)
    Q = K * np.outer(y, y)
    QD = np.diag(K).copy()
    alpha = np.zeros(n)
    G = -np.ones(n)                       # gradient Q a - e
    pos, neg = y > 0, y < 0
    if max_iter is None:
        max_iter = max(10_000_000, 100 * n)
    converged = False
    it = 0
    neg_inf = -np.inf
    while it < max_iter:
        below, above = alpha < C, alpha > 0
        up = (pos & below) | (neg & above)
        low = (neg & below) | (pos & above)
        yG = -y * G
        score_up = np.where(up, yG, neg_inf)
        i = int(np.argmax(score_up))
        g_max = score_up[i]
        g_min = np.min(np.where(low, yG, np.inf))
        if g_max - g_min < tol:
            converged = True
            break
        b = g_max - yG
        a = QD[i] + QD - 2.0 * y[i] * y * Q[i]
        a = np.where(a > 0, a, TAU)
        cand = low & (b > 0)
        j = int(np.argmin(np.where(cand, -(b * b) / a, np.inf)))
        it += 1
        ai_old, aj_old = alpha[i], alpha[j]
        ai, aj = _pair_update(ai_old, aj_old, y[i], y[j], G[i], G[j],
                              QD[i], QD[j], Q[i, j], C)
        alpha[i], alpha[j] = ai, aj
        G += Q[i] * (ai - ai_old) + Q[j] * (aj - aj_old)
    return alpha, _rho(alpha, y, G, C), it, converged


def _pair_update(ai, aj, yi, yj, Gi, Gj, Qii, Qjj, Qij, C):
    """Analytic minimisation over (alpha_i, alpha_j) with clipping (libsvm)."""
    if yi != yj:
        quad = Qii + Qjj + 2.0 * Qij
        quad = quad if quad > 0 else TAU
        delta = (-Gi - Gj) / quad
        diff = ai - aj
        ai += delta
        aj += delta
        if diff > 0:
            if aj < 0:
                aj, ai = 0.0, diff
        elif ai < 0:
            ai, aj = 0.0, -diff
        if diff > 0:
            if ai > C:
                ai, aj = C, C - diff
        elif aj > C:
            aj, ai = C, C + diff
    else:
        quad = Qii + Qjj - 2.0 * Qij
        quad = quad if quad > 0 else TAU
        delta = (Gi - Gj) / quad
        total = ai + aj
        ai -= delta
        aj += delta
        if total > C:
            if ai > C:
                ai, aj = C, total - C
        elif aj < 0:
            aj, ai = 0.0, total
        if total > C:
            if aj > C:
                aj, ai = C, total - C
        elif ai < 0:
            ai, aj = 0.0, total
    return ai, aj


def _rho(alpha, y, G, C) -> float:
    """Offset: mean of y*G over free vectors, else midpoint of the bounds."""
    yG = y * G
    at_upper, at_lower = alpha >= C, alpha <= 0
    free = ~(at_upper | at_lower)
    if free.any():
        return float(yG[free].mean())
    ub_mask = (at_upper & (y < 0)) | (at_lower & (y > 0))
    lb_mask = (at_upper & (y > 0)) | (at_lower & (y < 0))
    ub = yG[ub_mask].min() if ub_mask.any() else np.inf
    lb = yG[lb_mask].max() if lb_mask.any() else -np.inf
    return float((ub + lb) / 2.0)
