"""A sweep of (algo, env, seed) runs as Ray tasks, gathered into a table and learning curves.

    report = run_benchmark(BenchmarkConfig(algos=["sac", "td3"], envs=["Pendulum-v1"], seeds=3, n_timesteps=20000,
                                           out_dir="benchmark"))

Every run is rl.distributed.runs.run_one (the normal `python -m rl train` in a worker, one CPU and one
BLAS thread). Runs whose result file exists are skipped before Ray starts, so rerunning a finished
sweep only rebuilds the table. The sweep writes into out_dir:

    results.md, results.csv, results.json   per (algo, env): seeds, steps, mean, std, IQM with its 95%
                                            stratified-bootstrap CI (rl.distributed.stats), wall time
    curves_{env}.png                        mean evaluation return against steps, one line per algo
"""

from __future__ import annotations

import csv
import dataclasses
import os
import time

from rl.cli_checks import CLIError
from rl.cli_runs import safe_env_name

from .runs import RunSpec, read_result, run_one, write_json
from .stats import aggregate, summarize

__all__ = ["BenchmarkConfig", "BenchmarkReport", "plan_runs", "run_benchmark", "write_tables"]


@dataclasses.dataclass
class BenchmarkConfig:
    """A sweep: every algo on every env with seeds seed_start .. seed_start + seeds - 1.
    n_timesteps None: each (algo, env)'s YAML budget. eval_freq / save_freq None: n / 10 and n / 4."""

    algos: list
    envs: list
    seeds: int = 3
    n_timesteps: int | None = None
    out_dir: str = "benchmark"
    seed_start: int = 0
    eval_freq: int | None = None
    save_freq: int | None = None
    eval_episodes: int = 5
    final_eval_episodes: int = 10
    params: tuple = ()
    conf_file: str | None = None
    n_envs: int | None = None
    max_retries: int = 3
    address: str | None = None
    num_cpus: int | None = None


@dataclasses.dataclass
class BenchmarkReport:
    results: list  # result dicts of the finished runs (rl.distributed.runs.run_one)
    failures: list  # (RunSpec, one-line error)
    skipped: list  # RunSpecs already finished before this command
    rows: list  # rl.distributed.stats.summarize rows, plus steps and wall time
    files: list  # what was written
    wall_time_s: float


def plan_runs(config: BenchmarkConfig, algos: dict) -> list[RunSpec]:
    """One RunSpec per (algo, env, seed), after checking every algo, env and hyperparameter set
    (CLIError / HyperparameterError before anything runs)."""
    from rl.cli import ensure_registered, get_algo_class
    from rl.hyperparams import resolve

    out_dir = os.path.abspath(config.out_dir)
    conf_file = None if config.conf_file is None else os.path.abspath(config.conf_file)
    specs = []
    for algo in config.algos:
        algo_cls = get_algo_class(algo, algos)
        for env in config.envs:
            ensure_registered(env)
            hp = resolve(algo, env, list(config.params), algo_cls=algo_cls, n_timesteps=config.n_timesteps,
                         n_envs=config.n_envs, conf_file=conf_file)
            if hp.policy is None:
                raise CLIError(f"{algo} is a tabular algorithm; the benchmark runs agents with a policy")
            n = hp.n_timesteps
            for seed in range(config.seed_start, config.seed_start + config.seeds):
                specs.append(RunSpec(
                    algo=algo, env=env, seed=seed, n_timesteps=n, out_dir=out_dir,
                    eval_freq=config.eval_freq or max(n // 10, 1), save_freq=config.save_freq or max(n // 4, 1),
                    eval_episodes=config.eval_episodes, final_eval_episodes=config.final_eval_episodes,
                    params=tuple(config.params), conf_file=conf_file, n_envs=config.n_envs,
                    save_replay_buffer=hasattr(algo_cls, "save_replay_buffer")))
    return specs


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def write_tables(results: list, out_dir: str, header: str = "") -> tuple[list, list]:
    """results.md / .csv / .json from the result dicts; returns (rows, paths)."""
    scores, steps, walls = {}, {}, {}
    for r in sorted(results, key=lambda r: (r["algo"], r["env"], r["seed"])):
        key = (r["algo"], r["env"])
        scores.setdefault(key, []).append(r["score"])
        steps[key] = r["n_timesteps"]
        walls.setdefault(key, []).append(r["wall_time_s"])
    rows = summarize(scores)
    for row in rows:
        key = (row["algo"], row["env"])
        row.update(steps=steps[key], wall_time_s=sum(walls[key]) / len(walls[key]))
    envs = {env for _, env in scores}
    seeds = {len(v) for v in scores.values()}
    totals = aggregate(scores) if len(envs) > 1 and len(seeds) == 1 else []
    lines = [header, ""] if header else []
    lines += ["| algo | env | seeds | steps | mean | std | IQM [95% CI] | wall time per run |",
              "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['algo']} | {r['env']} | {r['n']} | {r['steps']:,} | {r['mean']:.2f} | {r['std']:.2f} | "
                     f"{r['iqm']:.2f} [{r['iqm_lo']:.2f}, {r['iqm_hi']:.2f}] | {_minutes(r['wall_time_s'])} |")
    if totals:
        lines += ["", "Over all envs (scores min-max normalised per env over every run; envs are the bootstrap "
                  "strata):", "", "| algo | envs | seeds | IQM [95% CI] |", "|---|---|---|---|"]
        lines += [f"| {t['algo']} | {t['envs']} | {t['n']} | {t['iqm']:.3f} [{t['iqm_lo']:.3f}, {t['iqm_hi']:.3f}] |"
                  for t in totals]
    paths = [os.path.join(out_dir, f"results.{ext}") for ext in ("md", "csv", "json")]
    os.makedirs(out_dir, exist_ok=True)
    with open(paths[0], "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    with open(paths[1], "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    write_json(paths[2], {"rows": rows, "aggregate": totals,
                          "runs": [{k: r[k] for k in ("algo", "env", "seed", "n_timesteps", "score", "wall_time_s",
                                                      "resumed_from_step", "attempts")} for r in results]})
    return rows, paths


def _write_curves(results: list, out_dir: str) -> tuple[list, str | None]:
    from .curves import plot_benchmark_curves

    paths = []
    try:
        for env in dict.fromkeys(r["env"] for r in results):
            path = os.path.join(out_dir, f"curves_{safe_env_name(env)}.png")
            if plot_benchmark_curves([r for r in results if r["env"] == env], env, path):
                paths.append(path)
    except ImportError as exc:
        return paths, str(exc)
    return paths, None


def run_benchmark(config: BenchmarkConfig, algos: dict | None = None, log=print) -> BenchmarkReport:
    """Run the sweep (see the module docstring); `algos` overrides rl.ALGOS (tests); `log` gets one
    line per event."""
    from rl.cli import get_algos

    from .ray_backend import run_tasks, start_ray, stop_ray

    started_at = time.time()
    specs = plan_runs(config, get_algos(algos))
    results, skipped, failures, pending = [], [], [], []
    for spec in specs:
        previous = read_result(spec)
        if previous is None:
            pending.append(spec)
        else:
            results.append(previous)
            skipped.append(spec)
    if skipped:
        log(f"{len(skipped)} of {len(specs)} runs already finished in {os.path.abspath(config.out_dir)}: skipped")
    if pending:
        started = start_ray(config.address, config.num_cpus)
        log(f"Running {len(pending)} runs on Ray (one CPU each; logs in {os.path.abspath(config.out_dir)}/seed*/)")
        try:
            for i, (spec, result, error) in enumerate(run_tasks(run_one, pending, max_retries=config.max_retries,
                                                                 args=(algos,), name=lambda s: s.label), 1):
                if error is not None:
                    failures.append((spec, error))
                    log(f"[{i}/{len(pending)}] {spec.label}: FAILED: {error}")
                    continue
                write_json(spec.result_path, {k: v for k, v in result.items() if k != "skipped"})  # the driver's copy
                results.append(result)
                resumed = f", resumed from step {result['resumed_from_step']}" if result["resumed_from_step"] else ""
                log(f"[{i}/{len(pending)}] {spec.label}: {result['score']:.2f} "
                    f"({_minutes(result['wall_time_s'])}{resumed})")
        except KeyboardInterrupt:
            log("Interrupted: the runs still going were stopped; run the same command again to continue them "
                "from their checkpoints")
            raise
        finally:
            stop_ray(started)
    wall = time.time() - started_at
    rows, files = [], []
    if results:
        header = (f"{len(results)} runs ({len(config.algos)} algos x {len(config.envs)} envs x {config.seeds} "
                  f"seed{'s' if config.seeds > 1 else ''}); "
                  f"training and evaluation {_minutes(sum(r['wall_time_s'] for r in results))} summed over runs; "
                  f"this command took {_minutes(wall)}. Score: mean return of {config.final_eval_episodes} "
                  "deterministic episodes of the final agent.")
        rows, files = write_tables(results, config.out_dir, header)
        curve_files, missing = _write_curves(results, config.out_dir)
        files += curve_files
        if missing:
            log(f"Note: no learning-curve PNGs: {missing}")
    return BenchmarkReport(results, failures, skipped, rows, files, wall)
