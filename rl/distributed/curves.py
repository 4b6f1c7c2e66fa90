"""Learning curves of a benchmark: one PNG per env, one line per algorithm (the mean evaluation return
across seeds against environment steps, with a band of +/- one standard deviation across seeds).
Seeds are evaluated at slightly different steps (a resumed run restarts its evaluation clock), so each
seed's curve is interpolated onto the steps of the seed with the most evaluations. Needs matplotlib
(this package's `plot` extra)."""

from __future__ import annotations

import os

import numpy as np

__all__ = ["mean_curve", "plot_benchmark_curves"]


def mean_curve(curves: list) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """[(timesteps, values)] of several seeds -> (x, mean, std) on a common x, None without data.
    A seed contributes only inside the steps it covers (no extrapolation past its last evaluation)."""
    curves = [(np.asarray(t, float), np.asarray(v, float)) for t, v in curves if len(t)]
    if not curves:
        return None
    x = max(curves, key=lambda c: len(c[0]))[0]
    stacked = np.full((len(curves), len(x)), np.nan)
    for i, (t, v) in enumerate(curves):
        order = np.argsort(t)
        t, v = t[order], v[order]
        inside = (x >= t[0]) & (x <= t[-1])
        stacked[i, inside] = np.interp(x[inside], t, v)
    covered = ~np.isnan(stacked).all(axis=0)
    x, stacked = x[covered], stacked[:, covered]
    return x, np.nanmean(stacked, axis=0), np.nanstd(stacked, axis=0)


def _figure():
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("learning-curve PNGs need matplotlib: pip install matplotlib (or this package's extra: "
                          "pip install -e \".[plot]\")") from None
    return Figure(figsize=(6.4, 4.4))


def plot_benchmark_curves(results: list, env: str, path: str) -> bool:
    """Write the curves of `results` (run_one result dicts, all on `env`) to `path`. Returns False
    (and writes nothing) when no run has evaluations; ImportError without matplotlib."""
    by_algo: dict = {}
    for r in results:
        by_algo.setdefault(r["algo"], []).append((r["curve"]["timesteps"], r["curve"]["mean_reward"]))
    lines = {algo: mean_curve(curves) for algo, curves in by_algo.items()}
    lines = {algo: line for algo, line in lines.items() if line is not None}
    if not lines:
        return False
    fig = _figure()
    ax = fig.add_subplot()
    for algo, (x, mean, std) in lines.items():
        n = len(by_algo[algo])
        ax.plot(x, mean, label=f"{algo} ({n} seed{'s' if n > 1 else ''})")
        ax.fill_between(x, mean - std, mean + std, alpha=0.2)
    ax.set_title(env)
    ax.set_xlabel("Timesteps")
    ax.set_ylabel("Mean evaluation return (+/- std across seeds)")
    ax.legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path)
    return True
