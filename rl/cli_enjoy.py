"""`python -m rl enjoy | eval | zoo`: load a trained agent (or a pretrained one when no run exists), watch it or
record a GIF, evaluate its mean return, list the pretrained agents.

    python -m rl enjoy --algo ppo --env CartPole-v1 --gif cartpole.gif
    python -m rl eval  --algo ppo --env CartPole-v1 --n-episodes 20
"""

from __future__ import annotations

import argparse
import os
import sys

import gymnasium as gym
import numpy as np

from rl.cli_checks import (
    SEED,
    CLIError,
    check_agent_fits_env,
    check_output_file,
    ensure_registered,
    get_algo_class,
    int_arg,
    load_agent_file,
    make_env_checked,
    parse_env_kwargs,
)
from rl.cli_runs import run_folder, safe_env_name
from rl.pretrained import agent_sources, load_pretrained, source_title

__all__ = ["add_enjoy_eval_parsers", "load_model", "has_display", "cmd_enjoy", "cmd_eval", "cmd_zoo"]


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


def add_enjoy_eval_parsers(sub) -> None:
    """The `enjoy` and `eval` subcommands' arguments (on the subparsers of `python -m rl`)."""
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
