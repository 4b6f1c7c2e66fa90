"""`python -m rl tune`: Optuna hyperparameter search on rl-zoo3's search spaces (rl.distributed.tune),
the trials as Ray tasks (--backend ray, the default) or local processes (--backend local).

    python -m rl tune --algo ppo --env CartPole-v1 --n-trials 20 --n-jobs 2 -n 20000
    python -m rl tune --algo sac --env Pendulum-v1 --storage sqlite:///tune.db --sampler random --pruner none
    python -m rl train --algo ppo --env CartPole-v1 --conf-file logs/tune/ppo/CartPole-v1/best.yml

The study lives in --storage (default: a journal file in logs/tune/{algo}/{env}/); rerunning the
command continues it until --n-trials trials have finished. Needs the `distributed` extra (Optuna;
Ray for --backend ray).
"""

from __future__ import annotations

from rl.cli_checks import SEED, CLIError, check_output_file, check_writable_folder, int_arg

__all__ = ["add_tune_parser", "cmd_tune"]


def add_tune_parser(sub) -> None:
    p = sub.add_parser("tune", help="Optuna hyperparameter search; writes the best as YAML for train --conf-file "
                       "(needs the distributed extra)")
    p.add_argument("--algo", required=True, help="ppo, a2c, dqn, sac, td3 or ddpg")
    p.add_argument("--env", required=True, help="environment id, e.g. CartPole-v1")
    p.add_argument("--n-trials", type=int_arg(1), default=10, help="trials the study should hold when done, "
                   "counting finished ones already in --storage (default: 10)")
    p.add_argument("--n-jobs", type=int_arg(1), default=1, help="trials running at once (default: 1)")
    p.add_argument("-n", "--n-timesteps", type=int_arg(1, also=(-1,), note=" (or -1: the YAML's)"), default=-1,
                   help="training steps per trial (default: the YAML entry's n_timesteps)")
    p.add_argument("--storage", default=None, help="sqlite:///tune.db (any SQLAlchemy URL), or a journal file path "
                   "(default: logs/tune/{algo}/{env}/study.journal)")
    p.add_argument("--study-name", default=None, help="default: {algo}-{env}")
    p.add_argument("--sampler", choices=["tpe", "random"], default="tpe")
    p.add_argument("--pruner", choices=["median", "none"], default="median")
    p.add_argument("--n-startup-trials", type=int_arg(0), default=5,
                   help="random trials before TPE models, and trials before the pruner acts (default: 5)")
    p.add_argument("--n-warmup-steps", type=int_arg(0), default=None,
                   help="evaluations of a trial before it may be pruned (default: n-evaluations // 3)")
    p.add_argument("--n-evaluations", type=int_arg(1), default=10, help="evaluations per trial (default: 10)")
    p.add_argument("--eval-episodes", type=int_arg(1), default=5, help="episodes per evaluation (default: 5)")
    p.add_argument("--seed", type=SEED, default=0, help="training seed of every trial; sampler seeds follow it")
    p.add_argument("--backend", choices=["ray", "local"], default="ray",
                   help="trials as Ray tasks, or local processes (n-jobs 1: in this process)")
    p.add_argument("--address", default=None, help="Ray cluster to join: auto, or ray://HOST:PORT")
    p.add_argument("--max-retries", type=int_arg(0), default=3, help="Ray: retries of a trial whose worker dies")
    p.add_argument("-params", "--hyperparams", dest="params", nargs="+", default=[], metavar="KEY:VALUE",
                   help="fixed hyperparameters for every trial (as python -m rl train)")
    p.add_argument("--n-envs", type=int_arg(1), default=None, help="override n_envs from the YAML")
    p.add_argument("-f", "--log-folder", default="logs", help="the study folder is {log-folder}/tune/{algo}/{env}")
    p.add_argument("-o", "--output", default=None, metavar="YAML",
                   help="where to write the best hyperparameters (default: the study folder's best.yml)")


def cmd_tune(args, algos=None) -> int:
    from rl.distributed.tune import TuneConfig, run_study

    check_writable_folder(args.log_folder, "-f")
    if args.output:
        check_output_file(args.output, "-o")
    if args.storage and "://" not in args.storage:
        check_output_file(args.storage, "--storage")
    if args.backend == "local" and args.address:
        raise CLIError("--address joins a Ray cluster; leave it out with --backend local")
    config = TuneConfig(
        algo=args.algo, env=args.env, n_trials=args.n_trials, n_jobs=args.n_jobs,
        n_timesteps=args.n_timesteps if args.n_timesteps > 0 else None, storage=args.storage,
        study_name=args.study_name, sampler=args.sampler, pruner=args.pruner, n_startup_trials=args.n_startup_trials,
        n_warmup_steps=args.n_warmup_steps, n_evaluations=args.n_evaluations, eval_episodes=args.eval_episodes,
        seed=args.seed, params=tuple(args.params), n_envs=args.n_envs, backend=args.backend, address=args.address,
        max_retries=args.max_retries, log_folder=args.log_folder, output=args.output)
    report = run_study(config, algos)
    counts = ", ".join(f"{n} {state.lower()}" for state, n in sorted(report.counts.items()))
    print(f"Study {config.name!r}: {counts}")
    if report.best is None:
        return 1
    print(f"Best: trial {report.best['number']}, mean evaluation return {report.best['value']:.2f}")
    for key, value in report.best["hyperparams"].items():
        print(f"  {key}: {value}")
    print(f"Written: {report.yaml_path}\nTrain with it: python -m rl train --algo {config.algo} --env {config.env} "
          f"--conf-file {report.yaml_path}")
    return 0
