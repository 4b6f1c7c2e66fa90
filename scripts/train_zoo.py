"""Train the agents of agents_zoo/ with our own CLI and YAML defaults, then measure them.

    python scripts/train_zoo.py ppo:CartPole-v1 a2c:CartPole-v1 [--seed 0] [-n STEPS] [--episodes 10]
    python scripts/train_zoo.py --readme-only      # regenerate agents_zoo/README.md
    python scripts/train_zoo.py --from-runs sac:HalfCheetah-v5 logs/zoo/sac/HalfCheetah-v5_1 [more -i runs]
    python scripts/train_zoo.py --recompact        # re-save every zoo agent in the compact format
    python scripts/train_zoo.py sac:HalfCheetah-v5 --gif-steps 120   # only (re)record a GIF

For each ALGO:ENV it runs ``python -m rl train --algo ALGO --env ENV --seed S -f LOGDIR``, copies
the final model to agents_zoo/<algo>/<env>/model.npz, evaluates it deterministically over
``--episodes`` episodes and writes metadata.json (with the exact command), then regenerates the
zoo README table.  ``--gif`` also records a GIF with ``python -m rl enjoy --gif``.  Long MuJoCo
trainings run the CLI in the background instead (resumable with ``-i`` and
``--save-replay-buffer``); ``--from-runs`` then adds the final model of that chain of CLI runs,
with the commands read back from each run's args.yml.  Zoo files leave out optimizer states and
target networks (COMPACT): loading rebuilds the targets from the online networks.
"""
import argparse
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
from rl.cli import run_folder, safe_env_name

LOG_DIR = os.environ.get("CORENN_ZOO_LOGS", "logs/zoo")
COMPACT = ["optimizer", "target_networks"]  # what zoo files leave out


def train_one(algo, env_id, seed, n_timesteps, episodes, extra, make_gif):
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


def record_gif(algo, env_id, steps=300):
    """docs/zoo_<algo>_<env>.gif through `python -m rl enjoy --gif` (MuJoCo: tracking camera, small frames)."""
    import gymnasium as gym
    gif = os.path.join("docs", f"zoo_{algo}_{safe_env_name(env_id)}.gif")
    cmd = [sys.executable, "-m", "rl", "enjoy", "--algo", algo, "--env", env_id, "-f", "/nonexistent",
           "--render-mode", "rgb_array", "--gif", gif, "-n", str(steps)]
    if "mujoco" in str(gym.spec(env_id).entry_point) and not env_id.startswith("corenn/"):
        cmd += ["--env-kwargs", "camera_name:track", "width:240", "height:180"]
    subprocess.run(cmd, check=True, env=dict(os.environ, MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl")))
    if "--env-kwargs" in cmd:
        shrink_gif(gif)


def shrink_gif(path, keep_every=2, colors=48):
    """Every `keep_every`-th frame, a `colors`-colour palette: MuJoCo GIFs from ~1.3 MB to ~0.3 MB."""
    from PIL import Image, ImageSequence
    with Image.open(path) as im:
        duration = im.info.get("duration", 20)
        frames = [f.convert("RGB").quantize(colors=colors) for i, f in enumerate(ImageSequence.Iterator(im))
                  if i % keep_every == 0]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=keep_every * duration, loop=0,
                   optimize=True)


def store_agent(algo, env_id, model_path, hyperparameters, command, seconds, episodes, note=None):
    """Copy a trained agent into the zoo (compact), measure it and write its metadata.json."""
    import rl
    model = rl.ALGOS[algo].load(model_path)
    target = agents_zoo.agent_dir(algo, env_id)
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
    from rl.cli import subcommand_parser
    with open(os.path.join(folder, "args.yml"), encoding="utf-8") as f:
        saved = yaml.safe_load(f)
    train = subcommand_parser("train")
    words = ["python", "-m", "rl", "train"]
    for action in train._actions:
        if not action.option_strings or action.dest not in saved or saved[action.dest] == action.default:
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
    store_agent(algo, env_id, model_path, config.get("hyperparams", config), command, seconds, episodes, note)


def recompact():
    """Re-save every zoo agent without optimizer states and target networks (acting is unchanged)."""
    import rl
    for meta in agents_zoo.list():
        path = os.path.join(agents_zoo.agent_dir(meta["algo"], meta["env_id"]), "model.npz")
        before = os.path.getsize(path)
        rl.ALGOS[meta["algo"]].load(path).save(path, exclude=COMPACT)
        print(f"{meta['algo']} {meta['env_id']}: {before / 1e6:.2f} MB -> {os.path.getsize(path) / 1e6:.2f} MB")


def evaluate(model, env_id, episodes, seed):
    from rl import evaluate_policy
    from rl.core.vec_env import make_vec_env
    env = make_vec_env(env_id, n_envs=1, seed=10_000 + seed)
    mean, std = evaluate_policy(model, env, n_eval_episodes=episodes, deterministic=True)
    env.close()
    return float(mean), float(std)


def write_readme():
    body = [
        "# agents_zoo: pretrained agents",
        "",
        "Every agent here was trained on a 2-core CPU by `scripts/train_zoo.py` through our own CLI",
        "(`python -m rl train`) with the YAML defaults in `rl/hyperparams/`. Returns are deterministic",
        "evaluations measured right after training (`metadata.json` holds the exact command, the",
        "hyperparameters and the seed). `tests/agents_zoo/test_zoo.py` re-checks them.",
        "",
        "```python",
        "import agents_zoo",
        'model = agents_zoo.load("ppo", "CartPole-v1")',
        "```",
        "",
        "`python -m rl enjoy --algo ppo --env CartPole-v1` uses the zoo agent when you have no local run;",
        "`python -m rl zoo` prints this table.",
        "",
        agents_zoo.table(),
        "",
    ]
    notes = [f"- {m['algo']} {m['env_id']}: {m['note']}" for m in agents_zoo.list() if m.get("note")]
    if notes:
        body += ["Notes:", "", *notes, ""]
    gifs = sorted(f for f in os.listdir("docs") if f.startswith("zoo_") and f.endswith(".gif")) \
        if os.path.isdir("docs") else []
    for gif in gifs:
        body += [f"![{gif[4:-4]}](../docs/{gif})", ""]
    with open(os.path.join(agents_zoo.ROOT, "README.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(body))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("agents", nargs="*", help="ALGO:ENV pairs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-n", "--n-timesteps", type=int, default=None)
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--gif", action="store_true")
    parser.add_argument("--readme-only", action="store_true")
    parser.add_argument("--extra", default="", help="extra CLI arguments, e.g. '-params learning_starts:1000'")
    parser.add_argument("--from-runs", nargs="+", metavar="ALGO:ENV FOLDER",
                        help="add the final model of CLI run folders (fresh run first, then -i runs)")
    parser.add_argument("--note", default=None, help="with --from-runs: a remark for metadata.json")
    parser.add_argument("--best", action="store_true", help="with --from-runs: the best_model.npz of the runs")
    parser.add_argument("--recompact", action="store_true", help="re-save every zoo agent compactly")
    parser.add_argument("--gif-steps", type=int, default=0, help="with ALGO:ENV pairs: only record their GIFs")
    args = parser.parse_args()
    if args.recompact:
        recompact()
    elif args.from_runs:
        algo, env_id = args.from_runs[0].split(":", 1)
        from_runs(algo, env_id, args.from_runs[1:], args.episodes, args.best, args.note)
    elif args.gif_steps:
        for pair in args.agents:
            record_gif(*pair.split(":", 1), steps=args.gif_steps)
    elif not args.readme_only:
        for pair in args.agents:
            algo, env_id = pair.split(":", 1)
            train_one(algo, env_id, args.seed, args.n_timesteps, args.episodes, args.extra.split(), args.gif)
    write_readme()


if __name__ == "__main__":
    main()
