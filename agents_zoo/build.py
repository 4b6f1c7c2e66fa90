"""Building the zoo: train agents with our own CLI and YAML defaults, or take CLI runs, then measure them.

For each ALGO:ENV, `train_one` runs ``python -m rl train --algo ALGO --env ENV --seed S -f LOGDIR``,
copies the final model to agents_zoo/<algo>/<env>/model.npz, evaluates it deterministically and
writes metadata.json (with the exact command). Long MuJoCo trainings run the CLI in the background
instead (resumable with ``-i`` and ``--save-replay-buffer``); `from_runs` then adds the final model
of that chain of CLI runs, with the commands read back from each run's args.yml. Zoo files leave
out optimizer states and target networks (COMPACT): loading rebuilds the targets from the online
networks. The command line is `python -m agents_zoo build` (agents_zoo.cli).
"""
import datetime
import json
import os
import shlex
import subprocess
import sys
import time

import yaml

import agents_zoo
import corenn
from rl import ALGOS, evaluate_policy, make_vec_env
from rl.cli import run_folder, safe_env_name, subcommand_parser

from .gifs import record_gif

__all__ = ["LOG_DIR", "COMPACT", "train_one", "store_agent", "command_from_args", "from_runs", "recompact",
           "evaluate"]

LOG_DIR = os.environ.get("CORENN_ZOO_LOGS", "logs/zoo")
COMPACT = ["optimizer", "target_networks"]  # what zoo files leave out


def train_one(algo, env_id, seed, n_timesteps, episodes, extra, make_gif):
    """Train ALGO on ENV through `python -m rl train`, then store and measure the agent."""
    cmd = [sys.executable, "-m", "rl", "train", "--algo", algo, "--env", env_id, "--seed", str(seed),
           "-f", LOG_DIR]
    if n_timesteps:
        cmd += ["-n", str(n_timesteps)]
    cmd += extra
    printable = " ".join(["python"] + cmd[1:])
    print(f"$ {printable}", flush=True)
    start = time.time()
    subprocess.run(cmd, check=True)
    seconds = time.time() - start
    folder = run_folder(LOG_DIR, algo, env_id, 0)
    with open(os.path.join(folder, "config.yml"), encoding="utf-8") as f:
        config = yaml.safe_load(f)
    model_path = os.path.join(folder, f"{safe_env_name(env_id)}.npz")
    meta = store_agent(algo, env_id, model_path, config.get("hyperparams", config), printable, seconds, episodes)
    if make_gif:
        record_gif(algo, env_id)
    return meta


def store_agent(algo, env_id, model_path, hyperparameters, command, seconds, episodes, note=None):
    """Copy a trained agent into the zoo (compact), measure it and write its metadata.json."""
    model = ALGOS[algo].load(model_path)
    target = agents_zoo.new_agent_dir(algo, env_id)
    os.makedirs(target, exist_ok=True)
    model.save(os.path.join(target, "model.npz"), exclude=COMPACT)
    seed = int(model.seed or 0)
    mean, std = evaluate(model, env_id, episodes, seed)
    meta = {
        "algo": algo, "env_id": env_id, "n_timesteps": int(model.num_timesteps), "seed": seed,
        "hyperparameters": hyperparameters, "command": command,
        "mean_reward": mean, "std_reward": std, "n_eval_episodes": episodes, "deterministic": True,
        "training_time_s": round(seconds, 1), "date": datetime.date.today().isoformat(),
        "corenn_version": corenn.__version__, "model_file": "model.npz",
        "machine": "2-core x86_64 CPU, no GPU (shared with other jobs)",
    }
    if note:
        meta["note"] = note
    with open(os.path.join(target, "metadata.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, default=str)
    print(f"{algo} {env_id}: {mean:.2f} +/- {std:.2f} over {episodes} episodes "
          f"({model.num_timesteps} steps, {seconds:.0f} s training)")
    return meta


def command_from_args(folder):
    """The `python -m rl train ...` command line that made a CLI run folder (from its args.yml):
    every option of the train parser whose saved value differs from its default."""
    with open(os.path.join(folder, "args.yml"), encoding="utf-8") as f:
        saved = yaml.safe_load(f)
    words = ["python", "-m", "rl", "train"]
    for action in subcommand_parser("train")._actions:
        if not action.option_strings or action.dest not in saved or saved[action.dest] == action.default:
            continue
        if action.dest == "n_envs" and not saved[action.dest]:  # 0 meant "from the YAML" before None did
            continue
        value, flag = saved[action.dest], action.option_strings[-1] if action.dest != "params" else "-params"
        if action.nargs == 0:  # store_true
            words.append(flag)
        elif isinstance(value, list):
            words += [flag, *map(str, value)]
        else:
            words += [flag, str(value)]
    return " ".join(shlex.quote(w) for w in words)


def from_runs(algo, env_id, folders, episodes, best=False, note=None):
    """Add the final model of a chain of CLI runs (a fresh run, then `-i` continuations); with
    best=True the EvalCallback's best_model.npz of the chain instead (rl-zoo3's --load-best)."""
    import numpy as np
    name = f"{safe_env_name(env_id)}.npz"
    seconds = sum(os.path.getmtime(os.path.join(f, name)) - os.path.getmtime(os.path.join(f, "args.yml"))
                  for f in folders)
    with open(os.path.join(folders[0], "config.yml"), encoding="utf-8") as f:
        config = yaml.safe_load(f)
    command = " && ".join(command_from_args(f) for f in folders)
    model_path = os.path.join(folders[-1], name)
    if best:
        scores = [(np.load(os.path.join(f, "evaluations.npz"))["results"].mean(axis=1).max(), f) for f in folders]
        model_path = os.path.join(max(scores)[1], "best_model.npz")
        command += f"  # zoo agent: {os.path.relpath(model_path)} (the EvalCallback's best)"
    return store_agent(algo, env_id, model_path, config.get("hyperparams", config), command, seconds, episodes,
                       note)


def recompact():
    """Re-save every zoo agent without optimizer states and target networks (acting is unchanged)."""
    for meta in agents_zoo.list():
        path = os.path.join(agents_zoo.agent_dir(meta["algo"], meta["env_id"]), "model.npz")
        before = os.path.getsize(path)
        ALGOS[meta["algo"]].load(path).save(path, exclude=COMPACT)
        print(f"{meta['algo']} {meta['env_id']}: {before / 1e6:.2f} MB -> {os.path.getsize(path) / 1e6:.2f} MB")


def evaluate(model, env_id, episodes, seed):
    """(mean, std) deterministic return over `episodes` episodes, env seeded with 10_000 + seed."""
    env = make_vec_env(env_id, n_envs=1, seed=10_000 + seed)
    mean, std = evaluate_policy(model, env, n_eval_episodes=episodes, deterministic=True)
    env.close()
    return float(mean), float(std)
