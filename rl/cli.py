"""rl-zoo3-shaped command line: python -m rl train | enjoy | eval | zoo.

    python -m rl train --algo ppo --env CartPole-v1            # YAML defaults from rl/hyperparams/ppo.yml
    python -m rl enjoy --algo ppo --env CartPole-v1 --gif cartpole.gif
    python -m rl eval  --algo ppo --env CartPole-v1 --n-episodes 20

Runs live in {log-folder}/{algo}/{env}_{N}/ with {env}.npz (final model), best_model.npz,
rl_model_{steps}_steps.npz checkpoints, config.yml and, unless -tb is given, TensorBoard logs.
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import sys

import gymnasium as gym
import numpy as np
import yaml

from rl.core.logger import get_latest_run_id
from rl.hyperparams import available_algos, load_hyperparams, parse_cli_value, parse_literal

__all__ = ["main", "build_parser", "CLIError", "safe_env_name", "preprocess_hyperparams"]

UNSUPPORTED_KEYS = ("env_wrapper", "vec_env_wrapper", "frame_stack", "callback", "use_sde",
                    "sde_sample_freq", "use_sde_at_warmup")


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
    if algos is not None:
        return algos
    import rl

    found = getattr(rl, "ALGOS", None)
    if not isinstance(found, dict):
        raise CLIError("rl.ALGOS (the algorithm registry) is not available in this installation")
    return found


def get_algo_class(name: str, algos: dict):
    if name not in algos:
        raise CLIError(f"unknown algorithm {name!r}; available: {', '.join(sorted(algos))}")
    return algos[name]


def make_action_noise(noise_type: str, noise_std: float, action_space: gym.Space):
    """rl-zoo3's noise_type/noise_std -> NormalActionNoise or OrnsteinUhlenbeckActionNoise."""
    from rl.core.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

    if not isinstance(action_space, gym.spaces.Box):
        raise CLIError(f"noise_type needs a continuous (Box) action space, got {action_space}")
    n = int(np.prod(action_space.shape))
    mean, sigma = np.zeros(n), float(noise_std) * np.ones(n)
    if noise_type == "normal":
        return NormalActionNoise(mean=mean, sigma=sigma)
    if noise_type == "ornstein-uhlenbeck":
        return OrnsteinUhlenbeckActionNoise(mean=mean, sigma=sigma)
    raise CLIError(f"unknown noise_type {noise_type!r}; use 'normal' or 'ornstein-uhlenbeck'")


def _resolve_rl_class(name: str):
    import rl

    cls = getattr(rl, name.split(".")[-1], None)
    if cls is None:
        raise CLIError(f"replay_buffer_class {name!r} is not available: rl exports no {name.split('.')[-1]}")
    return cls


def _no_names(dotted: str):
    raise ValueError(f"unexpected name {dotted!r}")


def preprocess_hyperparams(hyperparams: dict, action_space: gym.Space) -> dict:
    """YAML/CLI values -> constructor kwargs (policy, n_timesteps and n_envs already removed).

    Parses policy_kwargs / replay_buffer_kwargs / normalize strings safely, turns noise_type and
    noise_std into `action_noise`, looks up replay_buffer_class in `rl`, train_freq list -> tuple.
    Schedule strings such as 'lin_0.001' are passed through (the algorithms read them).
    """
    kwargs = {}
    for key, value in hyperparams.items():
        if key in UNSUPPORTED_KEYS:
            raise CLIError(f"hyperparameter {key!r} (rl-zoo3) is not supported here; remove it")
        try:
            if key in ("policy_kwargs", "replay_buffer_kwargs") and isinstance(value, str):
                value = parse_literal(value)
            elif key == "normalize" and isinstance(value, str):
                value = parse_literal(value, resolve=_no_names)
        except ValueError as exc:
            raise CLIError(f"{key}: {exc}") from None
        if key == "train_freq" and isinstance(value, list):
            value = tuple(value)
        kwargs[key] = value
    noise_type = kwargs.pop("noise_type", None)
    noise_std = kwargs.pop("noise_std", 0.1)
    if noise_type is not None:
        kwargs["action_noise"] = make_action_noise(noise_type, noise_std, action_space)
    if isinstance(kwargs.get("replay_buffer_class"), str):
        kwargs["replay_buffer_class"] = _resolve_rl_class(kwargs["replay_buffer_class"])
    return kwargs


def check_kwargs(algo_cls, kwargs: dict) -> None:
    params = inspect.signature(algo_cls.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        accepted = sorted(k for k in params if k not in ("self", "policy", "env"))
        raise CLIError(f"{algo_cls.__name__} does not take {', '.join(unknown)}; it takes {', '.join(accepted)}")


def parse_params(items) -> dict:
    """['n_steps:64', 'learning_rate:lin_1e-3'] -> {'n_steps': 64, 'learning_rate': 'lin_1e-3'}."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition(":")
        if not sep or not key:
            raise CLIError(f"-params expects key:value pairs, got {item!r}")
        out[key.strip()] = parse_cli_value(value.strip())
    return out


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
    """The trained agent named by --algo/--env/-f/--exp-id (or the zoo's, if no run exists)."""
    algo_cls = get_algo_class(args.algo, algos)
    try:
        folder = run_folder(args.log_folder, args.algo, args.env, args.exp_id)
    except CLIError:
        import agents_zoo

        if args.exp_id == 0 and callable(getattr(agents_zoo, "load", None)):
            print(f"No local run found; loading {args.algo} on {args.env} from the agents zoo")
            return agents_zoo.load(args.algo, args.env)
        raise
    name = "best_model.npz" if args.load_best else f"{safe_env_name(args.env)}.npz"
    if args.load_checkpoint is not None:
        name = f"rl_model_{args.load_checkpoint}_steps.npz"
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        present = sorted(f for f in os.listdir(folder) if f.endswith(".npz"))
        raise CLIError(f"{path} does not exist; the run folder holds: {', '.join(present) or 'no models'}")
    print(f"Loading {path}")
    return algo_cls.load(path)


def cmd_train(args, algos) -> int:
    from rl.core.callbacks import CheckpointCallback, EvalCallback
    from rl.core.vec_env import make_vec_env

    algo_cls = get_algo_class(args.algo, algos)
    ensure_registered(args.env)
    try:
        hyperparams, entry = load_hyperparams(args.algo, args.env)
    except (FileNotFoundError, KeyError) as exc:
        raise CLIError(str(exc).strip("'\"")) from None
    hyperparams.update(parse_params(args.params))
    n_timesteps = int(args.n_timesteps if args.n_timesteps > 0 else float(hyperparams.pop("n_timesteps", 1e6)))
    hyperparams.pop("n_timesteps", None)
    n_envs = int(args.n_envs or hyperparams.pop("n_envs", 1))
    hyperparams.pop("n_envs", None)
    policy = hyperparams.pop("policy", "MlpPolicy")

    env = make_vec_env(args.env, n_envs=n_envs, seed=args.seed)
    if entry == "default" and isinstance(env.single_observation_space, gym.spaces.Dict) and policy == "MlpPolicy":
        policy = "MultiInputPolicy"
    kwargs = preprocess_hyperparams(hyperparams, env.single_action_space)
    check_kwargs(algo_cls, kwargs)

    env_name = safe_env_name(args.env)
    log_root = os.path.join(args.log_folder, args.algo)
    save_path = os.path.join(log_root, f"{env_name}_{get_latest_run_id(log_root, env_name) + 1}")
    os.makedirs(save_path, exist_ok=True)
    tensorboard_log = save_path if args.tensorboard_log is None else os.path.join(args.tensorboard_log, env_name)
    config = dict(hyperparams, n_timesteps=n_timesteps, n_envs=n_envs, policy=policy)
    with open(os.path.join(save_path, "config.yml"), "w") as fh:
        yaml.safe_dump({"algo": args.algo, "env": args.env, "hyperparams_entry": entry, "hyperparams": config}, fh)
    with open(os.path.join(save_path, "args.yml"), "w") as fh:
        yaml.safe_dump(vars(args), fh)
    print(f"Training {args.algo} on {args.env} for {n_timesteps} steps ({entry!r} hyperparameters)")
    print(f"Saving to {save_path}")

    if args.trained_agent:
        if not os.path.exists(args.trained_agent):
            raise CLIError(f"--trained-agent {args.trained_agent} does not exist")
        model = algo_cls.load(args.trained_agent, env=env, tensorboard_log=tensorboard_log, verbose=args.verbose)
        reset_num_timesteps = False
    else:
        model = algo_cls(policy, env, seed=args.seed, tensorboard_log=tensorboard_log, verbose=args.verbose,
                         **kwargs)
        reset_num_timesteps = True

    callbacks = []
    if args.save_freq > 0:
        callbacks.append(CheckpointCallback(save_freq=max(args.save_freq // n_envs, 1), save_path=save_path,
                                            name_prefix="rl_model", verbose=args.verbose))
    if args.eval_freq > 0:
        eval_env = make_vec_env(args.env, n_envs=1, seed=None if args.seed is None else args.seed + 10_000)
        callbacks.append(EvalCallback(eval_env, n_eval_episodes=args.eval_episodes,
                                      eval_freq=max(args.eval_freq // n_envs, 1), best_model_save_path=save_path,
                                      log_path=save_path, deterministic=True, verbose=args.verbose))
    model_path = os.path.join(save_path, f"{env_name}.npz")
    status = 0
    try:
        model.learn(n_timesteps, callback=callbacks, progress_bar=args.progress,
                    reset_num_timesteps=reset_num_timesteps)
    except KeyboardInterrupt:
        print(f"\nInterrupted at {model.num_timesteps} timesteps: saving a checkpoint before exiting")
        status = 130
    finally:
        model.save(model_path)
        env.close()
    print(f"Model saved to {model_path}")
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


def cmd_enjoy(args, algos) -> int:
    ensure_registered(args.env)
    render_mode = args.render_mode or ("rgb_array" if args.gif else "human")
    if args.no_render and not args.gif:
        render_mode = None
    if args.gif and render_mode != "rgb_array":
        raise CLIError("--gif records rgb_array frames; use --render-mode rgb_array (or leave it out)")
    model = load_model(args, algos)
    env = gym.make(args.env, render_mode=render_mode)
    if render_mode is not None and render_mode not in env.metadata.get("render_modes", []):
        raise CLIError(f"{args.env} cannot render in {render_mode!r} mode; it offers {env.metadata.get('render_modes')}")
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
    import agents_zoo

    listing = agents_zoo.list() if callable(getattr(agents_zoo, "list", None)) else None
    if not listing:
        print("The agents zoo is empty: no pretrained agents are shipped yet.")
    elif isinstance(listing, str):
        print(listing)
    else:
        for entry in listing:
            print(" | ".join(f"{k}={v}" for k, v in entry.items()) if isinstance(entry, dict) else entry)
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
    train.add_argument("-i", "--trained-agent", default="", help="continue training this .npz agent")
    train.add_argument("--progress", action="store_true", help="show a progress bar")
    train.add_argument("--n-envs", type=int, default=0, help="override n_envs from the YAML")
    train.add_argument("-v", "--verbose", type=int, default=1)

    enjoy = sub.add_parser("enjoy", help="watch a trained agent (or record a GIF)")
    _add_model_args(enjoy)
    enjoy.add_argument("-n", "--n-timesteps", type=int, default=1000)
    enjoy.add_argument("--render-mode", choices=["human", "rgb_array"], default=None)
    enjoy.add_argument("--no-render", action="store_true", help="run without rendering")
    enjoy.add_argument("--gif", default=None, metavar="PATH", help="write the rgb_array frames to a GIF")

    evaluate = sub.add_parser("eval", help="mean and std of the return of a trained agent")
    _add_model_args(evaluate)
    evaluate.add_argument("--n-episodes", type=int, default=10)

    sub.add_parser("zoo", help="list the pretrained agents in agents_zoo")
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
    except CLIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
