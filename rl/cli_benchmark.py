"""`python -m rl benchmark`: many seeds, algorithms and environments at once, each run a Ray task
(rl.distributed.benchmark), on a local Ray instance or a cluster (--address).

    python -m rl benchmark --algos sac,td3 --envs Pendulum-v1,InvertedPendulum-v5 --seeds 3 -n 20000
    python -m rl benchmark --algos ppo --envs CartPole-v1 --seeds 5 --address auto   # a running cluster

On a cluster every node must have this package installed and see --output-dir at the same path (a
shared file system). Rerunning a command skips its finished runs and continues unfinished ones from
their last checkpoint. Needs the `distributed` extra (Ray).
"""

from __future__ import annotations

import os

from rl.cli_checks import SEED, CLIError, check_writable_folder, int_arg

__all__ = ["add_benchmark_parser", "cmd_benchmark", "split_names"]


def split_names(values: list, flag: str) -> list:
    """['sac,td3', 'ppo'] -> ['sac', 'td3', 'ppo'] (commas or spaces), without repeats."""
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    if not names:
        raise CLIError(f"{flag} needs at least one name")
    return list(dict.fromkeys(names))


def add_benchmark_parser(sub) -> None:
    p = sub.add_parser("benchmark", help="run algos x envs x seeds as Ray tasks; a table with IQM and bootstrap "
                       "CIs, and learning curves (needs the distributed extra)")
    p.add_argument("--algos", nargs="+", required=True, help="algorithms, comma-separated: ppo,sac,td3")
    p.add_argument("--envs", nargs="+", required=True, help="environment ids, comma-separated")
    p.add_argument("--seeds", type=int_arg(1), default=3, help="seeds per (algo, env) (default: 3)")
    p.add_argument("--seed-start", type=SEED, default=0, help="first seed (default: 0)")
    p.add_argument("-n", "--n-timesteps", type=int_arg(1, also=(-1,), note=" (or -1: the YAML's)"), default=-1,
                   help="steps per run (default: each YAML entry's n_timesteps)")
    p.add_argument("-f", "--output-dir", default=os.path.join("logs", "benchmark"),
                   help="where the runs, tables and curves go (default: logs/benchmark)")
    p.add_argument("--address", default=None, help="join a Ray cluster: auto, or ray://HOST:PORT (default: start a "
                   "local Ray instance)")
    p.add_argument("--num-cpus", type=int_arg(1), default=None, help="CPUs of the local Ray instance, so at most "
                   "this many runs at once (default: all cores)")
    p.add_argument("--max-retries", type=int_arg(0), default=3, help="retries of a run whose worker dies (default: 3)")
    p.add_argument("--eval-freq", type=int_arg(1), default=None, help="evaluate every N steps (default: n / 10)")
    p.add_argument("--eval-episodes", type=int_arg(1), default=5, help="episodes per evaluation (default: 5)")
    p.add_argument("--final-eval-episodes", type=int_arg(1), default=10,
                   help="episodes of the final agent's score (default: 10)")
    p.add_argument("--save-freq", type=int_arg(1), default=None, help="checkpoint every N steps (default: n / 4)")
    p.add_argument("-params", "--hyperparams", dest="params", nargs="+", default=[], metavar="KEY:VALUE",
                   help="hyperparameter overrides for every run (as python -m rl train)")
    p.add_argument("-conf", "--conf-file", default=None, metavar="YAML",
                   help="hyperparameters from this file instead of rl/hyperparams (e.g. python -m rl tune's best.yml)")
    p.add_argument("--n-envs", type=int_arg(1), default=None, help="override n_envs from the YAML")


def cmd_benchmark(args, algos=None) -> int:
    from rl.distributed.benchmark import BenchmarkConfig, run_benchmark

    check_writable_folder(args.output_dir, "-f")
    if args.conf_file is not None and not os.path.isfile(args.conf_file):
        raise CLIError(f"--conf-file {args.conf_file} does not exist")
    config = BenchmarkConfig(
        algos=split_names(args.algos, "--algos"), envs=split_names(args.envs, "--envs"), seeds=args.seeds,
        seed_start=args.seed_start, n_timesteps=args.n_timesteps if args.n_timesteps > 0 else None,
        out_dir=args.output_dir, eval_freq=args.eval_freq, save_freq=args.save_freq,
        eval_episodes=args.eval_episodes, final_eval_episodes=args.final_eval_episodes, params=tuple(args.params),
        conf_file=args.conf_file, n_envs=args.n_envs, max_retries=args.max_retries, address=args.address,
        num_cpus=args.num_cpus)
    report = run_benchmark(config, algos)
    if report.files:
        with open(report.files[0], encoding="utf-8") as fh:
            print("\n" + fh.read().rstrip())
        print("\nWritten: " + ", ".join(report.files))
    if report.failures:
        print(f"\n{len(report.failures)} run(s) failed (run the same command again to retry them):")
        for spec, error in report.failures:
            print(f"  {spec.label}: {error}")
        return 1
    return 0
