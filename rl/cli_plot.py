"""`python -m rl plot`: learning curves of the runs of `python -m rl train`, after rl-zoo3's
scripts/plot_train.py: one curve per run folder {log_folder}/{algo}/{env}_{N}, read from its
{i}.monitor.csv files (rl.core.monitor.load_results), smoothed by a moving mean over -w episodes;
with --evaluations, the mean evaluation return of its evaluations.npz (EvalCallback's, rl-zoo3's all_plots).

    python -m rl plot --algo ppo --env CartPole-v1 -f logs -x steps -w 100 -o cartpole.png
    python -m rl plot --algo ppo a2c --env CartPole-v1 --evaluations -o eval.png
"""

from __future__ import annotations

import glob
import os

import numpy as np

from rl.cli_checks import CLIError, check_output_file, int_arg
from rl.cli_runs import safe_env_name

__all__ = ["add_plot_parser", "cmd_plot", "run_curves", "eval_curves"]

X_AXES = {"steps": "timesteps", "episodes": "episodes", "time": "walltime_hrs"}
X_LABELS = {"steps": "Timesteps", "episodes": "Episodes", "time": "Walltime (in hours)"}
Y_COLUMNS = {"reward": ("r", "Episodic Reward"), "length": ("l", "Episode Length"),
             "success": ("is_success", "Success Rate")}


def add_plot_parser(sub) -> None:
    """The `plot` subcommand's arguments (on the subparsers of `python -m rl`)."""
    p = sub.add_parser("plot", help="plot the learning curves of trained runs (needs matplotlib)")
    p.add_argument("-a", "--algo", nargs="+", required=True, help="algorithm(s), e.g. ppo")
    p.add_argument("-e", "--env", nargs="+", required=True, help="environment id(s), e.g. CartPole-v1")
    p.add_argument("-f", "--log-folder", "--exp-folder", dest="log_folder", default="logs",
                   help="root of the run folders (default: logs)")
    p.add_argument("-x", "--x-axis", choices=sorted(X_AXES), default="steps", help="x axis (default: steps)")
    p.add_argument("-y", "--y-axis", choices=sorted(Y_COLUMNS), default="reward", help="y axis (default: reward)")
    p.add_argument("-w", "--episode-window", type=int_arg(1), default=100,
                   help="moving mean over this many episodes (default: 100)")
    p.add_argument("--evaluations", action="store_true",
                   help="plot the evaluations.npz curves (mean evaluation return per evaluation; x axis: steps)")
    p.add_argument("-max", "--max", type=int_arg(1), default=None, help="last timestep to plot")
    p.add_argument("--figsize", nargs=2, type=float, default=(6.4, 4.8), metavar=("W", "H"))
    p.add_argument("-o", "--output", default=None, metavar="PATH",
                   help="write the figure to PATH (.png, .pdf, .svg); without it a window opens")


def _run_folders(log_folder: str, algo: str, env_id: str) -> list:
    pattern = os.path.join(glob.escape(os.path.join(log_folder, algo)), f"{glob.escape(safe_env_name(env_id))}_*")
    return sorted((f for f in glob.glob(pattern) if os.path.basename(f).rpartition("_")[2].isdigit()),
                  key=lambda f: int(f.rpartition("_")[2]))


def eval_curves(log_folder: str, algo: str, env_id: str, y_axis: str = "reward",
                max_timesteps: int | None = None) -> list:
    """[(run name, timesteps, mean over the evaluation episodes)] from each run's evaluations.npz."""
    keys = {"reward": "results", "length": "ep_lengths", "success": "successes"}
    curves = []
    for folder in _run_folders(log_folder, algo, env_id):
        path = os.path.join(folder, "evaluations.npz")
        if not os.path.isfile(path):
            continue
        with np.load(path, allow_pickle=False) as data:
            if keys[y_axis] not in data:
                raise CLIError(f"{path} has no {keys[y_axis]!r} array, so -y {y_axis} cannot be plotted")
            x = np.asarray(data["timesteps"])
            y = np.asarray(data[keys[y_axis]], dtype=float).reshape(len(x), -1).mean(axis=1)
        keep = x <= max_timesteps if max_timesteps is not None else np.ones(len(x), bool)
        if keep.any():
            curves.append((f"{algo} {os.path.basename(folder)}", x[keep], y[keep]))
    return curves


def run_curves(log_folder: str, algo: str, env_id: str, x_axis: str, y_axis: str, window: int,
               max_timesteps: int | None = None) -> list:
    """[(run name, x, y)] for each run folder of algo on env_id that holds monitor files; y smoothed
    by a moving mean over `window` episodes (fewer when the run has fewer)."""
    from rl.core.monitor import load_results
    from rl.core.results_plotter import ts2xy, window_func

    column = Y_COLUMNS[y_axis][0]
    curves = []
    for folder in _run_folders(log_folder, algo, env_id):
        if not glob.glob(os.path.join(glob.escape(folder), "*monitor.csv")):
            continue
        data = load_results(folder)
        if len(data) == 0:
            continue
        if column not in data:
            raise CLIError(f"{folder}: the monitor files have no {column!r} column, so -y {y_axis} cannot be "
                           f"plotted (columns: {', '.join(data.columns)})")
        x, _ = ts2xy(data, X_AXES[x_axis])
        y = np.asarray(data[column], dtype=float)
        if max_timesteps is not None:
            keep = np.cumsum(data["l"]) <= max_timesteps
            x, y = x[keep], y[keep]
        if len(x) == 0:
            continue
        x, y = window_func(x, y, min(window, len(x)), np.mean)
        curves.append((f"{algo} {os.path.basename(folder)}", x, y))
    return curves


def cmd_plot(args, algos=None) -> int:
    if args.output:
        check_output_file(args.output, "-o")
    if args.evaluations and args.x_axis != "steps":
        raise CLIError("--evaluations plots against timesteps; leave out -x (or use -x steps)")
    what = "evaluations.npz files" if args.evaluations else "monitor files"
    curves, missing = [], []
    for algo in args.algo:
        for env_id in args.env:
            if args.evaluations:
                found = eval_curves(args.log_folder, algo, env_id, args.y_axis, args.max)
            else:
                found = run_curves(args.log_folder, algo, env_id, args.x_axis, args.y_axis, args.episode_window,
                                   args.max)
            if not found:
                missing.append(f"{algo} on {env_id}")
            curves.extend((env_id, *curve) for curve in found)
    if not curves:
        raise CLIError(f"no {what} for {', '.join(missing)} under {args.log_folder}; train first: "
                       f"python -m rl train --algo {args.algo[0]} --env {args.env[0]} -f {args.log_folder}")
    for name in missing:
        print(f"Note: no {what} for {name} under {args.log_folder}")
    if args.output is None and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise CLIError("no display to show the figure on; write it to a file with -o curves.png")
    try:
        from rl.core.results_plotter import import_pyplot

        plt = import_pyplot()
    except ImportError as exc:
        raise CLIError(str(exc)) from None
    fig = plt.figure(figsize=tuple(args.figsize))
    for env_id, name, x, y in curves:
        plt.plot(x, y, label=name if len(args.env) == 1 else f"{name} ({env_id})")
    plt.title(", ".join(args.env))
    plt.xlabel(X_LABELS[args.x_axis])
    plt.ylabel(("Mean Evaluation " if args.evaluations else "") + Y_COLUMNS[args.y_axis][1])
    plt.legend()
    plt.tight_layout()
    if args.output is None:
        plt.show()
    else:
        try:
            os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
            fig.savefig(args.output)
        except (OSError, ValueError) as exc:
            raise CLIError(f"cannot write the figure {args.output}: {exc}") from None
        print(f"Figure written to {args.output} ({len(curves)} curve{'s' if len(curves) > 1 else ''})")
    plt.close(fig)
    return 0
