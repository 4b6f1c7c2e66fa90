"""rl-zoo3-shaped command line: python -m rl train | enjoy | eval | zoo.

    python -m rl train --algo ppo --env CartPole-v1            # YAML defaults from rl/hyperparams/ppo.yml
    python -m rl enjoy --algo ppo --env CartPole-v1 --gif cartpole.gif   # enjoy, eval and zoo: rl.cli_enjoy
    python -m rl eval  --algo ppo --env CartPole-v1 --n-episodes 20
    python -m rl plot  --algo ppo --env CartPole-v1 -o cartpole.png   # learning curves (rl.cli_plot)
    python -m rl benchmark --algos sac,td3 --envs Pendulum-v1 --seeds 3   # seeds on Ray (rl.cli_benchmark)
    python -m rl tune --algo ppo --env CartPole-v1 --n-trials 20           # Optuna (rl.cli_tune)

Runs live in {log-folder}/{algo}/{env}_{N}/ with {env}.npz (final model), best_model.npz,
rl_model_{steps}_steps.npz checkpoints, config.yml, {i}.monitor.csv and, unless -tb is given, TensorBoard logs.
Without a run, enjoy and eval load a pretrained agent from the installed agent sources (rl.pretrained:
agents_zoo, for one); `python -m rl zoo` lists them. A user mistake ends in one line `error: ...`
and exit status 2, before anything is created (rl.cli_checks); run folders are made in rl.cli_runs.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys

from rl.cli_benchmark import add_benchmark_parser, cmd_benchmark
from rl.cli_checks import (
    SEED,
    ArgumentParser,
    CLIError,
    build_agent,
    check_param_ranges,
    check_reserved_params,
    check_writable_folder,
    ensure_registered,
    get_algo_class,
    get_algos,
    int_arg,
    make_env_checked,
)
from rl.cli_collect import add_collect_parser, cmd_collect
from rl.cli_enjoy import (  # noqa: F401 - has_display and load_model stay importable from rl.cli
    add_enjoy_eval_parsers,
    cmd_enjoy,
    cmd_eval,
    cmd_zoo,
    has_display,
    load_model,
)
from rl.cli_offline import DEMONSTRATION_ALGOS, OFFLINE_ALGOS, add_demonstrations, cmd_train_offline
from rl.cli_plot import add_plot_parser, cmd_plot
from rl.cli_runs import (
    MonitorFiles,
    create_run_folder,
    learn_and_save,
    load_trained_agent,
    next_run_folder,
    replay_buffer_path_for,
    run_folder,
    safe_env_name,
)
from rl.cli_tune import add_tune_parser, cmd_tune
from rl.hyperparams import HyperparameterError, ResolvedHyperparams, available_algos, parse_params, resolve

__all__ = ["main", "build_parser", "subcommand_parser", "CLIError", "safe_env_name", "run_folder",
           "replay_buffer_path_for"]


def _train_tabular(args, algo_cls, hp: ResolvedHyperparams, resolve_with, overrides: dict, raw: dict) -> int:
    """QLearning / ValueIteration: one plain env, no callbacks or TensorBoard."""
    if args.trained_agent:
        raise CLIError(f"-i is not supported for the tabular agent {algo_cls.__name__}")
    seeded = "seed" in inspect.signature(algo_cls).parameters
    config = dict(hp.config, **({"seed": args.seed} if seeded else {}))

    def make(hp):
        model = algo_cls(args.env, **hp.kwargs, **({"seed": args.seed} if seeded else {}))
        return model, model.env

    label = f"{algo_cls.__name__} cannot be used on {args.env}"
    model, _ = build_agent(make, resolve_with, overrides, raw, None, label)
    save_path, model_path = next_run_folder(args)
    create_run_folder(args, save_path, hp.entry, config)
    steps = f" for {hp.n_timesteps} steps" if hasattr(model, "num_timesteps") else ""
    print(f"Training {args.algo} on {args.env}{steps} ({hp.entry!r} hyperparameters)")
    return learn_and_save(model, model_path, lambda: model.learn(hp.n_timesteps))


def _resolver(args, algo_cls):
    """resolve_with(overrides, n_envs) -> ResolvedHyperparams for this command line."""
    n_timesteps = args.n_timesteps if args.n_timesteps > 0 else None
    return lambda overrides, n_envs: resolve(args.algo, args.env, overrides, algo_cls=algo_cls, n_timesteps=n_timesteps,
                                             n_envs=n_envs, conf_file=getattr(args, "conf_file", None))


def cmd_train(args, algos) -> int:
    if args.algo in OFFLINE_ALGOS or (getattr(args, "dataset", None) is not None
                                      and args.algo not in DEMONSTRATION_ALGOS):  # offline (bc, cql): from a dataset
        return cmd_train_offline(args)
    from rl.core.callbacks import CheckpointCallback, EvalCallback
    from rl.core.vec_env import make_vec_env

    algo_cls = get_algo_class(args.algo, algos)
    ensure_registered(args.env)
    check_writable_folder(args.log_folder, "-f")
    if args.tensorboard_log is not None:
        check_writable_folder(args.tensorboard_log, "-tb")
    overrides = parse_params(args.params)
    add_demonstrations(args, overrides)  # gail: --dataset is its expert data
    raw = {item.partition(":")[0].strip(): item for item in args.params}
    check_reserved_params(overrides)
    resolve_with = _resolver(args, algo_cls)
    hp = resolve_with(overrides, args.n_envs)
    check_param_ranges(algo_cls, hp.kwargs, overrides, raw)
    if hp.entry == "none":
        print(f"No hyperparameter file for {args.algo}: using the algorithm's defaults")
    if hp.policy is None:
        return _train_tabular(args, algo_cls, hp, resolve_with, overrides, raw)
    save_path, model_path = next_run_folder(args)
    tensorboard_log = save_path if args.tensorboard_log is None else os.path.join(args.tensorboard_log,
                                                                                  safe_env_name(args.env))

    monitor_files = MonitorFiles()  # {i}.monitor.csv in the run folder, opened once it exists

    def make(hp):
        monitor_files.reset()
        env = make_env_checked(lambda: make_vec_env(args.env, n_envs=hp.n_envs, seed=args.seed,
                                                    wrapper_class=monitor_files), args.env)
        try:
            if args.trained_agent:
                return load_trained_agent(args, algo_cls, env, tensorboard_log), env
            return algo_cls(hp.policy, env, seed=args.seed, tensorboard_log=tensorboard_log, verbose=args.verbose,
                            **hp.kwargs), env
        except BaseException:
            env.close()
            raise

    if args.trained_agent:
        model, env = make(hp)
    else:
        model, env = build_agent(make, resolve_with, overrides, raw, args.n_envs,
                                 f"{algo_cls.__name__} cannot be used on {args.env}")
    n_timesteps, n_envs = hp.n_timesteps, hp.n_envs
    try:
        callbacks = []
        save_buffer = args.save_replay_buffer
        if save_buffer and not hasattr(model, "save_replay_buffer"):
            raise CLIError(f"--save-replay-buffer: {args.algo} has no replay buffer")
        if args.save_freq > 0:
            callbacks.append(CheckpointCallback(save_freq=max(args.save_freq // n_envs, 1), save_path=save_path,
                                                name_prefix="rl_model", save_replay_buffer=save_buffer,
                                                verbose=args.verbose))
        if args.eval_freq > 0:
            eval_env = make_vec_env(args.env, n_envs=1, seed=None if args.seed is None else args.seed + 10_000)
            callbacks.append(EvalCallback(eval_env, n_eval_episodes=args.eval_episodes,
                                          eval_freq=max(args.eval_freq // n_envs, 1), best_model_save_path=save_path,
                                          log_path=save_path, deterministic=True, verbose=args.verbose))
        create_run_folder(args, save_path, hp.entry, hp.config)
        monitor_files.open(save_path)
        print(f"Training {args.algo} on {args.env} for {n_timesteps} steps ({hp.entry!r} hyperparameters)")
        print(f"Saving to {save_path}")
        status = learn_and_save(model, model_path, lambda: model.learn(
            n_timesteps, callback=callbacks, progress_bar=args.progress,
            reset_num_timesteps=not args.trained_agent))
        if save_buffer:
            path = model.save_replay_buffer(replay_buffer_path_for(model_path))
            print(f"Replay buffer saved to {path}")
    finally:
        env.close()
    tb_dir = getattr(getattr(model, "logger", None), "dir", None)
    if tb_dir:
        print(f"TensorBoard logs in {tb_dir} (view: tensorboard --logdir {os.path.dirname(tb_dir)})")
    return status


def subcommand_parser(name: str) -> argparse.ArgumentParser:
    """The parser of one subcommand ("train", "enjoy", ...), e.g. to rebuild a command line."""
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices[name]


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="python -m rl", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="{train,enjoy,eval,plot,collect,benchmark,tune,zoo}")

    train = sub.add_parser("train", help="train an agent with YAML defaults")
    train.add_argument("--algo", required=True, help=f"algorithm ({', '.join(available_algos())})")
    train.add_argument("--env", required=True, help="environment id, e.g. CartPole-v1")
    train.add_argument("-n", "--n-timesteps", type=int_arg(1, also=(-1,), note=" (or -1: the YAML's)"), default=-1,
                       help="override n_timesteps from the YAML")
    train.add_argument("--seed", type=SEED, default=None)
    train.add_argument("-params", "--hyperparams", dest="params", nargs="+", default=[], metavar="KEY:VALUE",
                       help="override hyperparameters, e.g. -params n_steps:64 learning_rate:lin_1e-3")
    train.add_argument("-conf", "--conf-file", default=None, metavar="YAML", help="hyperparameters from this file "
                       "(env id -> entry, e.g. the best.yml of python -m rl tune) instead of rl/hyperparams/{algo}.yml")
    train.add_argument("-tb", "--tensorboard-log", default=None,
                       help="TensorBoard root (default: inside the run folder)")
    train.add_argument("-f", "--log-folder", default="logs")
    train.add_argument("--eval-freq", type=int, default=25000, help="evaluate every N steps (<= 0: never)")
    train.add_argument("--eval-episodes", type=int_arg(1), default=5)
    train.add_argument("--save-freq", type=int, default=-1, help="checkpoint every N steps (<= 0: never)")
    train.add_argument("-i", "--trained-agent", default="", help="continue training this .npz agent (and its "
                       "replay buffer, when one was saved beside it)")
    train.add_argument("--save-replay-buffer", action="store_true",
                       help="off-policy: save the replay buffer with every checkpoint and the final model")
    train.add_argument("--progress", action="store_true", help="show a progress bar")
    train.add_argument("--n-envs", type=int_arg(1), default=None, help="override n_envs from the YAML")
    train.add_argument("-v", "--verbose", type=int_arg(0, 2), default=1)
    train.add_argument("--dataset", default=None, metavar="ID|PATH",
                       help="offline algorithms (bc, cql): a Minari dataset id or folder (python -m rl collect); "
                       "gail: the expert demonstrations")

    add_enjoy_eval_parsers(sub)
    add_plot_parser(sub)
    add_collect_parser(sub)
    add_benchmark_parser(sub)
    add_tune_parser(sub)
    sub.add_parser("zoo", help="list the pretrained agents (of agents_zoo and any other installed agent source)")
    return parser


def main(argv=None, algos=None) -> int:
    """Entry point; `algos` overrides rl.ALGOS (used by tests)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a one-line usage error (exit status 2)
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 2
    commands = {"train": cmd_train, "enjoy": cmd_enjoy, "eval": cmd_eval, "plot": cmd_plot, "zoo": cmd_zoo,
                "benchmark": cmd_benchmark, "tune": cmd_tune}
    commands["collect"] = cmd_collect  # python -m rl collect (rl.cli_collect)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return commands[args.command](args, get_algos(algos) if args.command not in ("zoo", "plot") else algos)
    except (CLIError, HyperparameterError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C outside training (training saves and returns 130 itself)
        print("\ninterrupted (Ctrl-C); nothing was saved", file=sys.stderr)
        return 130
