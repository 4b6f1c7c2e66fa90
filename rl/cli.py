"""rl-zoo3-shaped command line: python -m rl train | enjoy | eval | zoo.

    python -m rl train --algo ppo --env CartPole-v1            # YAML defaults from rl/hyperparams/ppo.yml
    python -m rl enjoy --algo ppo --env CartPole-v1 --gif cartpole.gif
    python -m rl eval  --algo ppo --env CartPole-v1 --n-episodes 20

Runs live in {log-folder}/{algo}/{env}_{N}/ with {env}.npz (final model), best_model.npz,
rl_model_{steps}_steps.npz checkpoints, config.yml and, unless -tb is given, TensorBoard logs.
Without a run, enjoy and eval load a pretrained agent from the installed agent sources (rl.pretrained:
agents_zoo, for one); `python -m rl zoo` lists them.
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import signal
import sys

import gymnasium as gym
import numpy as np
import yaml

from rl.core.logger import get_latest_run_id
from rl.hyperparams import HyperparameterError, ResolvedHyperparams, available_algos, parse_params, resolve
from rl.pretrained import agent_sources, load_pretrained, source_title

__all__ = ["main", "build_parser", "subcommand_parser", "CLIError", "safe_env_name", "run_folder"]

class CLIError(Exception):
    """A user-facing error: printed as 'error: ...' with exit status 2."""


def safe_env_name(env_id: str) -> str:
    """Folder-safe env name: 'corenn/ArmReach-v0' -> 'corenn-ArmReach-v0'."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "-", env_id)


def ensure_registered(env_id: str) -> None:
    """Import this project's `envs` package when the id is not a Gymnasium one."""
    if env_id not in gym.registry:
        try:
            import envs  # noqa: F401  (registers corenn/... environments)
        except ImportError:
            pass
    if env_id not in gym.registry:
        close = [k for k in gym.registry if k.lower().startswith(env_id.split("-")[0].lower())][:5]
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


def run_folder(log_folder: str, algo: str, env_id: str, exp_id: int = 0) -> str:
    """{log_folder}/{algo}/{env}_{exp_id}, the latest run for exp_id=0; CLIError if missing."""
    root = os.path.join(log_folder, algo)
    name = safe_env_name(env_id)
    exp_id = get_latest_run_id(root, name) if exp_id == 0 else exp_id
    folder = os.path.join(root, f"{name}_{exp_id}")
    if exp_id == 0 or not os.path.isdir(folder):
        raise CLIError(f"no trained {algo} agent for {env_id} in {os.path.join(root, name + '_N')}; "
                       f"train one first: python -m rl train --algo {algo} --env {env_id} -f {log_folder}")
    return folder


def load_model(args, algos):
    """The trained agent named by --algo/--env/-f/--exp-id (or a pretrained one, if no run exists)."""
    algo_cls = get_algo_class(args.algo, algos)
    try:
        folder = run_folder(args.log_folder, args.algo, args.env, args.exp_id)
    except CLIError as err:
        if args.exp_id != 0:
            raise
        try:
            model, source = load_pretrained(args.algo, args.env)
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
    return algo_cls.load(path)


def _new_run_folder(args) -> tuple[str, str]:
    env_name = safe_env_name(args.env)
    log_root = os.path.join(args.log_folder, args.algo)
    save_path = os.path.join(log_root, f"{env_name}_{get_latest_run_id(log_root, env_name) + 1}")
    os.makedirs(save_path, exist_ok=True)
    return save_path, os.path.join(save_path, f"{env_name}.npz")


def _write_config(args, save_path: str, entry: str, config: dict) -> None:
    with open(os.path.join(save_path, "config.yml"), "w") as fh:
        yaml.safe_dump({"algo": args.algo, "env": args.env, "hyperparams_entry": entry, "hyperparams": config}, fh)
    with open(os.path.join(save_path, "args.yml"), "w") as fh:
        yaml.safe_dump(vars(args), fh)


def replay_buffer_path_for(model_path: str) -> str:
    """Where the replay buffer of an agent file lives: {env}.npz -> replay_buffer.npz in the same
    folder; a checkpoint rl_model_{N}_steps.npz -> rl_model_replay_buffer_{N}_steps.npz."""
    folder, name = os.path.split(model_path)
    match = re.fullmatch(r"(.*)_(\d+_steps)(\.npz)?", name)
    if match:
        return os.path.join(folder, f"{match.group(1)}_replay_buffer_{match.group(2)}.npz")
    return os.path.join(folder, "replay_buffer.npz")


def _interrupt_on_sigterm(signum, frame):
    raise KeyboardInterrupt


def _learn_and_save(model, model_path: str, learn) -> int:
    """Run `learn()`; Ctrl-C (or SIGTERM, e.g. a job scheduler's) stops it and still saves.
    Returns the exit status (130 after an interruption)."""
    status = 0
    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    except ValueError:  # not the main thread: leave SIGTERM alone
        previous = None
    try:
        learn()
    except KeyboardInterrupt:
        print(f"\nInterrupted at {getattr(model, 'num_timesteps', '?')} timesteps: saving a checkpoint before exiting")
        status = 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        model.save(model_path)
    print(f"Model saved to {model_path}")
    return status


def _train_tabular(args, algo_cls, hp: ResolvedHyperparams) -> int:
    """QLearning / ValueIteration: one plain env, no callbacks or TensorBoard."""
    if args.trained_agent:
        raise CLIError(f"-i is not supported for the tabular agent {algo_cls.__name__}")
    kwargs, config = dict(hp.kwargs), dict(hp.config)
    if "seed" in inspect.signature(algo_cls).parameters:
        kwargs["seed"] = config["seed"] = args.seed
    save_path, model_path = _new_run_folder(args)
    _write_config(args, save_path, hp.entry, config)
    model = algo_cls(args.env, **kwargs)
    steps = f" for {hp.n_timesteps} steps" if hasattr(model, "num_timesteps") else ""
    print(f"Training {args.algo} on {args.env}{steps} ({hp.entry!r} hyperparameters)")
    return _learn_and_save(model, model_path, lambda: model.learn(hp.n_timesteps))


def cmd_train(args, algos) -> int:
    from rl.core.callbacks import CheckpointCallback, EvalCallback
    from rl.core.vec_env import make_vec_env

    algo_cls = get_algo_class(args.algo, algos)
    ensure_registered(args.env)
    hp = resolve(args.algo, args.env, parse_params(args.params), algo_cls=algo_cls,
                 n_timesteps=args.n_timesteps if args.n_timesteps > 0 else None, n_envs=args.n_envs or None)
    if hp.entry == "none":
        print(f"No hyperparameter file for {args.algo}: using the algorithm's defaults")
    if hp.policy is None:
        return _train_tabular(args, algo_cls, hp)
    n_timesteps, n_envs = hp.n_timesteps, hp.n_envs
    env = make_vec_env(args.env, n_envs=n_envs, seed=args.seed)
    save_path, model_path = _new_run_folder(args)
    tensorboard_log = save_path if args.tensorboard_log is None else os.path.join(args.tensorboard_log,
                                                                                  safe_env_name(args.env))
    _write_config(args, save_path, hp.entry, hp.config)
    print(f"Training {args.algo} on {args.env} for {n_timesteps} steps ({hp.entry!r} hyperparameters)")
    print(f"Saving to {save_path}")

    if args.trained_agent:
        if not os.path.exists(args.trained_agent):
            raise CLIError(f"--trained-agent {args.trained_agent} does not exist")
        model = algo_cls.load(args.trained_agent, env=env, tensorboard_log=tensorboard_log, verbose=args.verbose)
        buffer_path = replay_buffer_path_for(args.trained_agent)
        if hasattr(model, "load_replay_buffer") and os.path.exists(buffer_path):
            model.load_replay_buffer(buffer_path)
            print(f"Loaded the replay buffer {buffer_path} ({model.replay_buffer.size()} transitions)")
    else:
        model = algo_cls(hp.policy, env, seed=args.seed, tensorboard_log=tensorboard_log, verbose=args.verbose,
                         **hp.kwargs)
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
    try:
        status = _learn_and_save(model, model_path, lambda: model.learn(
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
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], duration=max(int(1000 / fps), 20), loop=0)


def has_display() -> bool:
    """False on a Linux box without X11 or Wayland (a server, CI): windows cannot open there."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_enjoy(args, algos) -> int:
    ensure_registered(args.env)
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
    try:
        env = gym.make(args.env, render_mode=render_mode, **parse_params(args.env_kwargs))
    except TypeError as e:
        raise CLIError(f"--env-kwargs do not fit {args.env}: {e}") from None
    if render_mode is not None and render_mode not in env.metadata.get("render_modes", []):
        offered = env.metadata.get("render_modes")
        env.close()
        raise CLIError(f"{args.env} cannot render in {render_mode!r} mode; it offers {offered}")
    deterministic = not args.stochastic
    obs, _ = env.reset(seed=args.seed)
    frames = [env.render()] if render_mode == "rgb_array" else []
    episode_return, episode_length, episodes = 0.0, 0, 0
    try:
        for _ in range(args.n_timesteps):
            action, _ = model.predict(obs, deterministic=deterministic)
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
    env = make_vec_env(args.env, n_envs=1, seed=args.seed)
    try:
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
    p.add_argument("--exp-id", type=int, default=0, help="run number N of {env}_N (default 0: the latest)")
    p.add_argument("--load-best", action="store_true", help="load best_model.npz (saved by evaluations)")
    p.add_argument("--load-checkpoint", type=int, default=None, help="load rl_model_{N}_steps.npz")
    p.add_argument("--seed", type=int, default=0)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--deterministic", dest="stochastic", action="store_false", help="greedy actions (default)")
    group.add_argument("--stochastic", dest="stochastic", action="store_true", help="sample actions")
    p.set_defaults(stochastic=False)


def subcommand_parser(name: str) -> argparse.ArgumentParser:
    """The parser of one subcommand ("train", "enjoy", ...), e.g. to rebuild a command line."""
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices[name]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rl", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="{train,enjoy,eval,zoo}")

    train = sub.add_parser("train", help="train an agent with YAML defaults")
    train.add_argument("--algo", required=True, help=f"algorithm ({', '.join(available_algos())})")
    train.add_argument("--env", required=True, help="environment id, e.g. CartPole-v1")
    train.add_argument("-n", "--n-timesteps", type=int, default=-1, help="override n_timesteps from the YAML")
    train.add_argument("--seed", type=int, default=None)
    train.add_argument("-params", "--hyperparams", dest="params", nargs="+", default=[], metavar="KEY:VALUE",
                       help="override hyperparameters, e.g. -params n_steps:64 learning_rate:lin_1e-3")
    train.add_argument("-tb", "--tensorboard-log", default=None,
                       help="TensorBoard root (default: inside the run folder)")
    train.add_argument("-f", "--log-folder", default="logs")
    train.add_argument("--eval-freq", type=int, default=25000, help="evaluate every N steps (<= 0: never)")
    train.add_argument("--eval-episodes", type=int, default=5)
    train.add_argument("--save-freq", type=int, default=-1, help="checkpoint every N steps (<= 0: never)")
    train.add_argument("-i", "--trained-agent", default="", help="continue training this .npz agent (and its "
                       "replay buffer, when one was saved beside it)")
    train.add_argument("--save-replay-buffer", action="store_true",
                       help="off-policy: save the replay buffer with every checkpoint and the final model")
    train.add_argument("--progress", action="store_true", help="show a progress bar")
    train.add_argument("--n-envs", type=int, default=0, help="override n_envs from the YAML")
    train.add_argument("-v", "--verbose", type=int, default=1)

    enjoy = sub.add_parser("enjoy", help="watch a trained agent (or record a GIF)")
    _add_model_args(enjoy)
    enjoy.add_argument("-n", "--n-timesteps", type=int, default=1000)
    enjoy.add_argument("--render-mode", choices=["human", "rgb_array"], default=None)
    enjoy.add_argument("--no-render", action="store_true", help="run without rendering")
    enjoy.add_argument("--gif", default=None, metavar="PATH", help="write the rgb_array frames to a GIF")
    enjoy.add_argument("--env-kwargs", nargs="+", default=[], metavar="KEY:VALUE",
                       help="keyword arguments for gym.make, e.g. camera_name:\"'track'\" (MuJoCo)")

    evaluate = sub.add_parser("eval", help="mean and std of the return of a trained agent")
    _add_model_args(evaluate)
    evaluate.add_argument("--n-episodes", type=int, default=10)

    sub.add_parser("zoo", help="list the pretrained agents (of agents_zoo and any other installed agent source)")
    return parser


def main(argv=None, algos=None) -> int:
    """Entry point; `algos` overrides rl.ALGOS (used by tests)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {"train": cmd_train, "enjoy": cmd_enjoy, "eval": cmd_eval, "zoo": cmd_zoo}
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return commands[args.command](args, get_algos(algos) if args.command != "zoo" else algos)
    except (CLIError, HyperparameterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
