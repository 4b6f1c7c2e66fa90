"""Scores across seeds as rliable reports them (Agarwal et al., 2021, "Deep Reinforcement Learning at
the Edge of the Statistical Precipice"): the interquartile mean with percentile-bootstrap confidence
intervals, the bootstrap stratified by task (runs are resampled within each task, never across).

    iqm(x)                    mean of the middle 50% of the runs: sort, drop floor(n/4) from each end
    stratified_bootstrap_ci   (lo, hi) of a statistic over B resamples of scores[run, task]
    summarize(scores)         one row per (algo, env): n, mean, std, IQM and its 95% CI

With n < 4 runs nothing is trimmed and the IQM equals the mean (as scipy.stats.trim_mean(x, 0.25),
which rliable uses).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

__all__ = ["iqm", "stratified_bootstrap_ci", "summarize", "min_max_normalize", "aggregate"]


def _check_finite(scores: np.ndarray, what: str) -> None:
    if scores.size == 0:
        raise ValueError(f"{what}: no scores")
    if not np.isfinite(scores).all():
        raise ValueError(f"{what}: scores must be finite, got {scores.ravel()[~np.isfinite(scores.ravel())][:3]}")


def iqm(scores, axis: int | None = None) -> np.ndarray | float:
    """Interquartile mean of `scores` (all of them, or along `axis`): the mean after dropping the
    lowest and highest floor(n/4) values."""
    x = np.asarray(scores, dtype=np.float64)
    if axis is None:
        x, axis = x.ravel(), 0
    x = np.sort(np.moveaxis(x, axis, -1), axis=-1)
    n = x.shape[-1]
    cut = int(0.25 * n)
    return x[..., cut:n - cut].mean(axis=-1)


def _flat_iqm(samples: np.ndarray) -> np.ndarray:
    """IQM of each bootstrap sample: samples[b, run, task] -> [b] (over all runs and tasks, as rliable)."""
    return iqm(samples.reshape(samples.shape[0], -1), axis=1)


def stratified_bootstrap_ci(scores, statistic: Callable = _flat_iqm, n_boot: int = 2000, confidence: float = 0.95,
                            seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of `statistic` for scores[run, task] (a 1-D array is one
    task). Each resample draws n_runs runs with replacement within every task independently.
    `statistic` maps samples[b, run, task] to [b] values."""
    x = np.asarray(scores, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    if x.ndim != 2:
        raise ValueError(f"scores must be [runs] or [runs, tasks], got shape {x.shape}")
    _check_finite(x, "stratified_bootstrap_ci")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    n_runs, n_tasks = x.shape
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_runs, size=(n_boot, n_runs, n_tasks))
    samples = x[rows, np.arange(n_tasks)]  # [b, run, task]
    values = np.asarray(statistic(samples), dtype=np.float64)
    alpha = 1.0 - confidence
    lo, hi = np.percentile(values, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)


def summarize(scores: Mapping, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0) -> list[dict]:
    """{(algo, env): [score per seed]} -> rows {algo, env, n, mean, std, iqm, iqm_lo, iqm_hi}; std is
    the sample standard deviation across seeds (n - 1; 0 for one seed)."""
    rows = []
    for (algo, env), values in scores.items():
        x = np.asarray(values, dtype=np.float64)
        _check_finite(x, f"{algo} on {env}")
        lo, hi = stratified_bootstrap_ci(x, n_boot=n_boot, confidence=confidence, seed=seed)
        rows.append({"algo": algo, "env": env, "n": int(x.size), "mean": float(x.mean()),
                     "std": float(x.std(ddof=1)) if x.size > 1 else 0.0, "iqm": float(iqm(x)),
                     "iqm_lo": lo, "iqm_hi": hi})
    return rows


def min_max_normalize(scores: Mapping) -> dict:
    """{(algo, env): scores} -> the same, each env's scores mapped to [0, 1] by the lowest and highest
    score any algorithm reached on it (rliable aggregates normalised scores; this is the normalisation
    that needs no reference scores). An env where every score is equal maps to 0."""
    envs = {env for _, env in scores}
    bounds = {}
    for env in envs:
        every = np.concatenate([np.asarray(v, dtype=np.float64) for (_, e), v in scores.items() if e == env])
        bounds[env] = (every.min(), every.max())
    return {(algo, env): (np.asarray(v, dtype=np.float64) - bounds[env][0]) / max(bounds[env][1] - bounds[env][0],
                                                                              1e-12)
            for (algo, env), v in scores.items()}


def aggregate(scores: Mapping, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0) -> list[dict]:
    """One row per algorithm over all its envs: IQM of the min-max normalised scores with a stratified
    bootstrap CI (envs are the strata). Every env must have the same number of seeds for an algorithm."""
    normalized = min_max_normalize(scores)
    rows = []
    for algo in dict.fromkeys(a for a, _ in normalized):
        columns = [np.asarray(v) for (a, _), v in normalized.items() if a == algo]
        if len({len(c) for c in columns}) != 1:
            raise ValueError(f"{algo}: every env needs the same number of seeds to aggregate, got "
                             f"{[len(c) for c in columns]}")
        matrix = np.stack(columns, axis=1)  # [run, task]
        lo, hi = stratified_bootstrap_ci(matrix, n_boot=n_boot, confidence=confidence, seed=seed)
        rows.append({"algo": algo, "envs": len(columns), "n": matrix.shape[0], "iqm": float(iqm(matrix)),
                     "iqm_lo": lo, "iqm_hi": hi})
    return rows
