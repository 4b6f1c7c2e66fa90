"""Small smooth optimisers shared by the linear models.

``lbfgs`` minimises a differentiable function of a flat parameter vector
(limited-memory BFGS, two-loop recursion, backtracking Armijo line search).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np


def lbfgs(fun_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
          x0: np.ndarray, max_iter: int = 100, tol: float = 1e-4,
          memory: int = 10) -> tuple[np.ndarray, float, int, bool]:
    """Minimise ``fun_grad`` from ``x0``.

    fun_grad(x) -> (f, g) with x, g of shape (p,). Stops when
    ``max|g| <= tol`` or after ``max_iter`` iterations.
    Returns (x, f, n_iter, converged).
    """
    x = np.array(x0, dtype=np.float64, copy=True)
    f, g = fun_grad(x)
    s_hist: list[np.ndarray] = []
    y_hist: list[np.ndarray] = []
    rho_hist: list[float] = []
    for it in range(1, max_iter + 1):
        if np.max(np.abs(g)) <= tol:
            return x, f, it - 1, True
        # two-loop recursion for d = -H g
        q = g.copy()
        alphas = []
        for s, y, rho in zip(reversed(s_hist), reversed(y_hist),
                             reversed(rho_hist)):
            a = rho * s.dot(q)
            alphas.append(a)
            q -= a * y
        if s_hist:
            gamma = s_hist[-1].dot(y_hist[-1]) / y_hist[-1].dot(y_hist[-1])
        else:
            gamma = 1.0 / max(np.linalg.norm(g), 1.0)
        r = gamma * q
        for (s, y, rho), a in zip(zip(s_hist, y_hist, rho_hist),
                                  reversed(alphas)):
            b = rho * y.dot(r)
            r += (a - b) * s
        d = -r
        slope = g.dot(d)
        if slope >= 0:  # not a descent direction: restart from steepest
            s_hist.clear()
            y_hist.clear()
            rho_hist.clear()
            d = -g / max(np.linalg.norm(g), 1.0)
            slope = g.dot(d)
        step = 1.0
        for _ in range(40):
            x_new = x + step * d
            f_new, g_new = fun_grad(x_new)
            if np.isfinite(f_new) and f_new <= f + 1e-4 * step * slope:
                break
            step *= 0.5
        else:
            return x, f, it, False
        s = x_new - x
        y = g_new - g
        sy = s.dot(y)
        if sy > 1e-10 * max(1.0, y.dot(y)):
            s_hist.append(s)
            y_hist.append(y)
            rho_hist.append(1.0 / sy)
            if len(s_hist) > memory:
                s_hist.pop(0)
                y_hist.pop(0)
                rho_hist.pop(0)
        converged_f = abs(f - f_new) <= 1e-12 * max(abs(f), abs(f_new), 1.0)
        x, f, g = x_new, f_new, g_new
        if converged_f:
            return x, f, it, True
    return x, f, max_iter, bool(np.max(np.abs(g)) <= tol)
