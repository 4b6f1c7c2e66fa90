"""Kernel functions for SVC: linear, RBF, polynomial and sigmoid."""
from __future__ import annotations

import numpy as np

KERNELS = ("linear", "rbf", "poly", "sigmoid")


def kernel_matrix(A: np.ndarray, B: np.ndarray, kernel: str, gamma: float,
                  degree: int, coef0: float) -> np.ndarray:
    """Gram matrix between rows: A (m, d), B (n, d) -> (m, n).

    linear: a.b; rbf: exp(-gamma |a-b|^2); poly: (gamma a.b + coef0)^degree;
    sigmoid: tanh(gamma a.b + coef0).
    """
    dot = A @ B.T
    if kernel == "linear":
        return dot
    if kernel == "rbf":
        sq = (np.einsum("ij,ij->i", A, A)[:, None] - 2.0 * dot
              + np.einsum("ij,ij->i", B, B)[None, :])
        np.maximum(sq, 0.0, out=sq)
        sq *= -gamma
        return np.exp(sq, out=sq)
    if kernel == "poly":
        return (gamma * dot + coef0) ** degree
    if kernel == "sigmoid":
        return np.tanh(gamma * dot + coef0)
    raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}.")
