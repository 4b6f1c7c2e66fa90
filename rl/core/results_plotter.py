"""SB3's `results_plotter`: learning curves from monitor files.

    from rl.common import results_plotter
    results_plotter.plot_results([log_dir], 1e5, results_plotter.X_TIMESTEPS, "PPO CartPole")

`load_results` returns a `MonitorData` (rl.core.monitor) where SB3 returns a pandas DataFrame.
matplotlib (the `plot` extra: pip install -e ".[plot]") is imported only by the plotting functions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .monitor import load_results

__all__ = ["X_TIMESTEPS", "X_EPISODES", "X_WALLTIME", "POSSIBLE_X_AXES", "EPISODES_WINDOW", "COLORS",
           "rolling_window", "window_func", "ts2xy", "plot_curves", "plot_results", "load_results", "import_pyplot"]

X_TIMESTEPS = "timesteps"
X_EPISODES = "episodes"
X_WALLTIME = "walltime_hrs"
POSSIBLE_X_AXES = [X_TIMESTEPS, X_EPISODES, X_WALLTIME]
EPISODES_WINDOW = 100
COLORS = ["blue", "green", "red", "cyan", "magenta", "yellow", "black", "purple", "pink", "brown", "orange", "teal",
          "coral", "lightblue", "lime", "lavender", "turquoise", "darkgreen", "tan", "salmon", "gold", "darkred",
          "darkblue"]


def import_pyplot():
    """matplotlib.pyplot on a non-interactive backend when no display is set; ImportError naming the extra."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install matplotlib (or this package's extra: "
                          "pip install -e \".[plot]\")") from None
    import os

    if not os.environ.get("DISPLAY") and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def rolling_window(array: np.ndarray, window: int) -> np.ndarray:
    """Read-only view (..., len - window + 1, window) of the windows along the last axis."""
    array = np.asarray(array)
    if int(window) < 1 or int(window) > array.shape[-1]:
        raise ValueError(f"window must be in [1, {array.shape[-1]}] for an array of shape {array.shape}, got {window}")
    return np.lib.stride_tricks.sliding_window_view(array, int(window), axis=-1)


def window_func(var_1: np.ndarray, var_2: np.ndarray, window: int, func: Callable) -> tuple[np.ndarray, np.ndarray]:
    """(var_1 from the window-th point on, func of var_2 over each window): e.g. a moving mean."""
    var_2_window = rolling_window(var_2, window)
    function_on_var2 = func(var_2_window, axis=-1)
    return np.asarray(var_1)[window - 1:], function_on_var2


def ts2xy(data_frame, x_axis: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of a load_results table: y the episode returns, x the cumulative timesteps (X_TIMESTEPS),
    the episode numbers (X_EPISODES) or the wall time in hours (X_WALLTIME)."""
    if x_axis == X_TIMESTEPS:
        x_var = np.cumsum(np.asarray(data_frame["l"]))
    elif x_axis == X_EPISODES:
        x_var = np.arange(len(data_frame))
    elif x_axis == X_WALLTIME:
        x_var = np.asarray(data_frame["t"], dtype=float) / 3600.0
    else:
        raise ValueError(f"x_axis must be one of {POSSIBLE_X_AXES}, got {x_axis!r}")
    return x_var, np.asarray(data_frame["r"], dtype=float)


def plot_curves(xy_list: list, x_axis: str, title: str, figsize: tuple = (8, 2)):
    """One figure: each (x, y) as points and, when long enough, its EPISODES_WINDOW moving mean.
    Returns the figure."""
    plt = import_pyplot()
    fig = plt.figure(title, figsize=figsize)
    max_x = max((x[-1] for x, _ in xy_list if len(x)), default=0)
    min_x = 0
    for i, (x, y) in enumerate(xy_list):
        color = COLORS[i % len(COLORS)]
        plt.scatter(x, y, s=2, color=color)
        if len(x) >= EPISODES_WINDOW:
            x, y_mean = window_func(x, y, EPISODES_WINDOW, np.mean)
            plt.plot(x, y_mean, color=color)
    if max_x > min_x:
        plt.xlim(min_x, max_x)
    plt.title(title)
    plt.xlabel(x_axis)
    plt.ylabel("Episode Rewards")
    plt.tight_layout()
    return fig


def plot_results(dirs: list, num_timesteps: int | None, x_axis: str, task_name: str, figsize: tuple = (8, 2)):
    """Learning curves of the monitor files in each folder of `dirs`, cut at `num_timesteps` (None: all).
    Returns the figure (SB3 draws it on the current pyplot figure; so does this: plt.savefig works)."""
    if isinstance(dirs, str):
        dirs = [dirs]
    xy_list = []
    for folder in dirs:
        data = load_results(folder)
        if num_timesteps is not None:
            keep = np.cumsum(data["l"]) <= num_timesteps
            data = type(data)({k: data[k][keep] for k in data.columns}, data.t_start, data.env_ids)
        xy_list.append(ts2xy(data, x_axis))
    return plot_curves(xy_list, x_axis, task_name, figsize)
