"""Run folders of `python -m rl train`: their names, creation (only once the agent is built), config
files, the -i agent they continue from, and saving when training is interrupted.

    {log_folder}/{algo}/{env}_{N}/  {env}.npz, best_model.npz, rl_model_{steps}_steps.npz, config.yml, args.yml,
                                    {i}.monitor.csv (sub-env i's episodes, read by `python -m rl plot`)
"""

from __future__ import annotations

import os
import re
import signal

import yaml

from rl.cli_checks import CLIError, load_agent_file
from rl.core.logger import get_latest_run_id

__all__ = ["safe_env_name", "run_folder", "next_run_folder", "create_run_folder", "write_config",
           "replay_buffer_path_for", "learn_and_save", "load_trained_agent", "MonitorFiles"]


def safe_env_name(env_id: str) -> str:
    """Folder-safe env name: 'corenn/ArmReach-v0' -> 'corenn-ArmReach-v0'."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "-", env_id)


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


def next_run_folder(args) -> tuple[str, str]:
    """(run folder, final model path) of the next run; nothing is created yet."""
    env_name = safe_env_name(args.env)
    log_root = os.path.join(args.log_folder, args.algo)
    save_path = os.path.join(log_root, f"{env_name}_{get_latest_run_id(log_root, env_name) + 1}")
    return save_path, os.path.join(save_path, f"{env_name}.npz")


def create_run_folder(args, save_path: str, entry: str, config: dict) -> None:
    """Create the run folder with its config.yml and args.yml (CLIError if it cannot be created)."""
    try:
        os.makedirs(save_path, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"cannot create the run folder {save_path}: {exc.strerror or exc}") from None
    write_config(args, save_path, entry, config)


def write_config(args, save_path: str, entry: str, config: dict) -> None:
    """config.yml (the hyperparameters used) and args.yml (the command line's arguments)."""
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


class MonitorFiles:
    """`wrapper_class` for make_vec_env: wraps each sub-env in a Monitor (made in rank order, in this
    process); `open(folder)` then gives sub-env i the file {folder}/{i}.monitor.csv (rl-zoo3's layout),
    so nothing is written before the run folder exists."""

    def __init__(self):
        self.monitors: list = []

    def __call__(self, env):
        from rl.core.monitor import Monitor

        monitor = Monitor(env)
        self.monitors.append(monitor)
        return monitor

    def reset(self) -> None:
        self.monitors = []

    def open(self, folder: str) -> None:
        from rl.core.monitor import ResultsWriter

        for rank, monitor in enumerate(self.monitors):
            env_id = monitor.env.spec.id if monitor.env.spec is not None else None
            monitor.results_writer = ResultsWriter(os.path.join(folder, str(rank)),
                                                   header={"t_start": monitor.t_start, "env_id": str(env_id)})


def _interrupt_on_sigterm(signum, frame):
    raise KeyboardInterrupt


def learn_and_save(model, model_path: str, learn) -> int:
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


def load_trained_agent(args, algo_cls, env, tensorboard_log: str, **load_kwargs):
    """The -i agent (and the replay buffer saved beside it) on `env`; CLIError for an unusable file.
    `load_kwargs` go to `algo_cls.load` (an offline algorithm's `dataset`)."""
    path = args.trained_agent
    if not (os.path.isfile(path) or os.path.isfile(f"{path}.npz")):
        raise CLIError(f"-i {path} is a folder, not an agent file" if os.path.isdir(path)
                       else f"-i {path} does not exist")
    if args.params:
        print("Note: -params are not applied to an agent loaded with -i; it keeps its saved hyperparameters")
    model = load_agent_file(lambda: algo_cls.load(path, env=env, tensorboard_log=tensorboard_log,
                                                  verbose=args.verbose, **load_kwargs), path, "-i")
    buffer_path = replay_buffer_path_for(path)
    if hasattr(model, "load_replay_buffer") and os.path.exists(buffer_path):
        load_agent_file(lambda: model.load_replay_buffer(buffer_path), buffer_path, "the replay buffer beside -i")
        print(f"Loaded the replay buffer {buffer_path} ({model.replay_buffer.size()} transitions)")
    return model
