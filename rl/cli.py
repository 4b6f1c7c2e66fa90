"""rl-zoo3-shaped command line: python -m rl train | enjoy | eval | zoo.

    python -m rl train --algo ppo --env CartPole-v1            # YAML defaults from rl/hyperparams/ppo.yml
    python -m rl enjoy --algo ppo --env CartPole-v1 --gif cartpole.gif
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

import gymnasium as gym
import numpy as np

from rl.cli_benchmark import add_benchmark_parser, cmd_benchmark
from rl.cli_checks import (
    SEED,
    ArgumentParser,
    CLIError,
    build_agent,
    check_agent_fits_env,
    check_output_file,
    check_param_ranges,
    check_reserved_params,
    check_writable_folder,
    int_arg,
    load_agent_file,
    make_env_checked,
    parse_env_kwargs,
)
from rl.cli_collect import add_collect_parser, cmd_collect
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
from rl.pretrained import agent_sources, load_pretrained, source_title

__all__ = ["main", "build_parser", "subcommand_parser", "CLIError", "safe_env_name", "run_folder",
           "replay_buffer_path_for"]


def ensure_registered(env_id: str) -> None:
    """Import this project's `envs` package when the id is not a Gymnasium one."""
    if env_id not in gym.registry:
        try:
            import envs  # noqa: F401  (registers corenn/... environments)
        except ImportError:
            pass
    if env_id not in gym.registry:
        prefix = env_id.split("-")[0].lower()
        close = [k for k in gym.registry if prefix and k.lower().startswith(prefix)][:5]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise CLIError(f"unknown environment {env_id!r}{hint}")


def get_algos(algos=None) -> dict:
    """`algos` when given (tests pass their own), else rl.ALGOS."""
    if algos is not None:
        return algos
    from rl import ALGOS

    return ALGOS


def get_algo_class(name: str, algos: dict):
    if name not in algos:
        raise CLIError(f"unknown algorithm {name!r}; available: {', '.join(sorted(algos))}")
    return algos[name]


def load_model(args, algos):
    """The trained agent named by --algo/--env/-f/--exp-id (or a pretrained one, if no run exists)."""
    algo_cls = get_algo_class(args.algo, algos)
    try:
        folder = run_folder(args.log_folder, args.algo, args.env, args.exp_id)
    except CLIError as err:
        if args.exp_id != 0 or args.load_best or args.load_checkpoint is not None:  # a local run was asked for
            raise
        try:
            model, source = load_agent_file(lambda: load_pretrained(args.algo, args.env),
                                            prefix=f"the pretrained {args.algo} agent for {args.env}")
        except KeyError:  # no agent source has one either: report the missing run
            raise err from None
        print(f"No local run found; loaded {args.algo} on {args.env} from the {source_title(source)}")
        return model
    name = "best_model.npz" if args.load_best else f"{safe_env_name(args.env)}.npz"
    if args.load_checkpoint is not None:
        name = f"rl_model_{args.load_checkpoint}_steps.npz"
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        present = sorted(f for f in os.listdir(folder) if f.endswith(".npz"))
        raise CLIError(f"{path} does not exist; the run folder holds: {', '.join(present) or 'no models'}")
    print(f"Loading {path}")
    return load_agent_file(lambda: algo_cls.load(path), path)


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


def _write_gif(frames: list, path: str, fps: float) -> None:
    try:
        from PIL import Image
    except ImportError:
        raise CLIError("--gif needs Pillow: pip install pillow") from None
    if not frames:
        raise CLIError("no frames were rendered; nothing to write")
    images = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in frames]
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        images[0].save(path, format="GIF", save_all=True, append_images=images[1:],
                       duration=max(int(1000 / fps), 20), loop=0)
    except OSError as exc:
        raise CLIError(f"cannot write the GIF {path}: {exc.strerror or exc}") from None


def has_display() -> bool:
    """False on a Linux box without X11 or Wayland (a server, CI): windows cannot open there."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_enjoy(args, algos) -> int:
    ensure_registered(args.env)
    env_kwargs = parse_env_kwargs(args.env_kwargs)
    if args.gif:
        check_output_file(args.gif, "--gif")
    render_mode = args.render_mode or ("rgb_array" if args.gif else "human")
    if args.no_render and not args.gif:
        render_mode = None
    if args.gif and render_mode != "rgb_array":
        raise CLIError("--gif records rgb_array frames; use --render-mode rgb_array (or leave it out)")
    if render_mode == "human" and not has_display():
        if args.render_mode == "human" and os.environ.get("SDL_VIDEODRIVER") != "dummy":
            raise CLIError("--render-mode human needs a display and none was found (DISPLAY and WAYLAND_DISPLAY "
                           "are unset); record a GIF with --gif out.gif, or use --no-render")
        if args.render_mode is None:
            print("No display found: running without a window (record one with --gif out.gif)")
            render_mode = None
    model = load_model(args, algos)
    env = make_env_checked(lambda: gym.make(args.env, render_mode=render_mode, **env_kwargs), args.env, env_kwargs)
    try:
        check_agent_fits_env(model, env.observation_space, env.action_space, args.env)
        if render_mode is not None and render_mode not in env.metadata.get("render_modes", []):
            raise CLIError(f"{args.env} cannot render in {render_mode!r} mode; it offers "
                           f"{env.metadata.get('render_modes')}")
    except CLIError:
        env.close()
        raise
    deterministic = not args.stochastic
    obs, _ = env.reset(seed=args.seed)
    frames = [env.render()] if render_mode == "rgb_array" else []
    episode_return, episode_length, episodes = 0.0, 0, 0
    state, episode_start = None, np.ones(1, dtype=bool)  # recurrent agents carry their LSTM state
    try:
        for _ in range(args.n_timesteps):
            action, state = model.predict(obs, state=state, episode_start=episode_start, deterministic=deterministic)
            episode_start = np.zeros(1, dtype=bool)
            obs, reward, terminated, truncated, info = env.step(action)
            episode_return += float(reward)
            episode_length += 1
            if render_mode == "rgb_array":
                frames.append(env.render())
            if terminated or truncated:
                episodes += 1
                success = f", success={bool(info['is_success'])}" if "is_success" in info else ""
                print(f"Episode {episodes}: return={episode_return:.2f} length={episode_length}{success}")
                episode_return, episode_length = 0.0, 0
                obs, _ = env.reset()
                episode_start = np.ones(1, dtype=bool)
    except KeyboardInterrupt:
        print("\nStopped")
    finally:
        env.close()
    if args.gif:
        _write_gif(frames, args.gif, float(env.metadata.get("render_fps", 30)))
        print(f"GIF written to {args.gif} ({len(frames)} frames)")
    return 0


def cmd_eval(args, algos) -> int:
    from rl.core.evaluation import evaluate_policy
    from rl.core.vec_env import make_vec_env

    ensure_registered(args.env)
    model = load_model(args, algos)
    env = make_env_checked(lambda: make_vec_env(args.env, n_envs=1, seed=args.seed), args.env)
    try:
        check_agent_fits_env(model, env.single_observation_space, env.single_action_space, args.env)
        mean, std = evaluate_policy(model, env, n_eval_episodes=args.n_episodes, deterministic=not args.stochastic)
    finally:
        env.close()
    print(f"{args.algo} on {args.env}: mean_reward={mean:.2f} +/- {std:.2f} over {args.n_episodes} episodes")
    return 0


def cmd_zoo(args, algos) -> int:
    """Print the table of every source of pretrained agents (headed by its title when there are several)."""
    sources = agent_sources()
    if not sources:
        print("No pretrained agents: no agent source is installed (agents_zoo declares one; pip install -e .)")
    for i, (name, source) in enumerate(sources.items()):
        if len(sources) > 1:
            print(("\n" if i else "") + f"{source_title(name)}:")
        print(source.table())
    return 0


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--algo", required=True, help="algorithm name, e.g. ppo")
    p.add_argument("--env", required=True, help="environment id, e.g. CartPole-v1")
    p.add_argument("-f", "--log-folder", default="logs", help="root of the run folders (default: logs)")
    p.add_argument("--exp-id", type=int_arg(0), default=0, help="run number N of {env}_N (default 0: the latest)")
    best = p.add_mutually_exclusive_group()
    best.add_argument("--load-best", action="store_true", help="load best_model.npz (saved by evaluations)")
    best.add_argument("--load-checkpoint", type=int_arg(0), default=None, help="load rl_model_{N}_steps.npz")
    p.add_argument("--seed", type=SEED, default=0)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--deterministic", dest="stochastic", action="store_false", help="greedy actions (default)")
    group.add_argument("--stochastic", dest="stochastic", action="store_true", help="sample actions")
    p.set_defaults(stochastic=False)


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

    enjoy = sub.add_parser("enjoy", help="watch a trained agent (or record a GIF)")
    _add_model_args(enjoy)
    enjoy.add_argument("-n", "--n-timesteps", type=int_arg(1), default=1000)
    enjoy.add_argument("--render-mode", choices=["human", "rgb_array"], default=None)
    enjoy.add_argument("--no-render", action="store_true", help="run without rendering")
    enjoy.add_argument("--gif", default=None, metavar="PATH", help="write the rgb_array frames to a GIF")
    enjoy.add_argument("--env-kwargs", nargs="+", default=[], metavar="KEY:VALUE",
                       help="keyword arguments for gym.make, e.g. camera_name:\"'track'\" (MuJoCo)")

    evaluate = sub.add_parser("eval", help="mean and std of the return of a trained agent")
    _add_model_args(evaluate)
    evaluate.add_argument("--n-episodes", type=int_arg(1), default=10)

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
