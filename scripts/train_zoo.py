"""Train the agents of agents_zoo/ with our own CLI and YAML defaults, then measure them.

    python scripts/train_zoo.py ppo:CartPole-v1 a2c:CartPole-v1 [--seed 0] [-n STEPS] [--episodes 10]
    python scripts/train_zoo.py --readme-only      # regenerate agents_zoo/README.md
    python scripts/train_zoo.py --import-checkpoint sac:HalfCheetah-v5=runs/x/model.npz --command "..."

For each ALGO:ENV it runs ``python -m rl train --algo ALGO --env ENV --seed S -f LOGDIR``, copies
the final model to agents_zoo/<algo>/<env>/model.npz, evaluates it deterministically over
``--episodes`` episodes and writes metadata.json (with the exact command), then regenerates the
zoo README table.  ``--gif`` also records a GIF with ``python -m rl enjoy --gif``.
"""
import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time

import yaml

import agents_zoo
import corenn
from rl.cli import run_folder, safe_env_name

LOG_DIR = os.environ.get("CORENN_ZOO_LOGS", "logs/zoo")


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
    target = agents_zoo.agent_dir(algo, env_id)
    os.makedirs(target, exist_ok=True)
    shutil.copyfile(os.path.join(folder, f"{safe_env_name(env_id)}.npz"), os.path.join(target, "model.npz"))
    import rl
    model = rl.ALGOS[algo].load(os.path.join(target, "model.npz"))
    model.save(os.path.join(target, "model.npz"), exclude=["optimizer"])  # compact: weights only
    mean, std = evaluate(model, env_id, episodes, seed)
    meta = {
        "algo": algo, "env_id": env_id, "n_timesteps": int(model.num_timesteps), "seed": seed,
        "hyperparameters": config.get("hyperparams", config), "command": printable,
        "mean_reward": mean, "std_reward": std, "n_eval_episodes": episodes, "deterministic": True,
        "training_time_s": round(seconds, 1), "date": datetime.date.today().isoformat(),
        "corenn_version": corenn.__version__, "model_file": "model.npz",
        "machine": "2-core x86_64 CPU, no GPU",
    }
    with open(os.path.join(target, "metadata.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, default=str)
    print(f"{algo} {env_id}: {mean:.2f} +/- {std:.2f} over {episodes} episodes ({seconds:.0f} s training)")
    if make_gif:
        gif = os.path.join("docs", f"zoo_{algo}_{safe_env_name(env_id)}.gif")
        subprocess.run([sys.executable, "-m", "rl", "enjoy", "--algo", algo, "--env", env_id, "-f", "/nonexistent",
                        "--render-mode", "rgb_array", "--gif", gif, "-n", "300"], check=True)
    return meta


def import_checkpoint(algo, env_id, path, command, episodes, training_time_s=None):
    """Add an agent trained by another of our scripts (e.g. a resumable benchmark run)."""
    import rl
    model = rl.ALGOS[algo].load(path)
    target = agents_zoo.agent_dir(algo, env_id)
    os.makedirs(target, exist_ok=True)
    model.save(os.path.join(target, "model.npz"), exclude=["optimizer"])  # no replay buffer either
    seed = int(model.seed or 0)
    mean, std = evaluate(model, env_id, episodes, seed)
    meta = {
        "algo": algo, "env_id": env_id, "n_timesteps": int(model.num_timesteps), "seed": seed,
        "hyperparameters": model._hyperparameters(), "command": command,
        "mean_reward": mean, "std_reward": std, "n_eval_episodes": episodes, "deterministic": True,
        "training_time_s": training_time_s, "date": datetime.date.today().isoformat(),
        "corenn_version": corenn.__version__, "model_file": "model.npz",
        "machine": "2-core x86_64 CPU, no GPU", "partial": True,
    }
    with open(os.path.join(target, "metadata.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, default=str)
    print(f"{algo} {env_id}: {mean:.2f} +/- {std:.2f} over {episodes} episodes ({model.num_timesteps} steps)")


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
    parser.add_argument("--import-checkpoint", metavar="ALGO:ENV=PATH",
                        help="add an agent trained by another script instead of training one")
    parser.add_argument("--command", help="with --import-checkpoint: the command that trained it")
    parser.add_argument("--training-time-s", type=float, default=None)
    args = parser.parse_args()
    if args.import_checkpoint:
        pair, path = args.import_checkpoint.split("=", 1)
        algo, env_id = pair.split(":", 1)
        import_checkpoint(algo, env_id, path, args.command, args.episodes, args.training_time_s)
    elif not args.readme_only:
        for pair in args.agents:
            algo, env_id = pair.split(":", 1)
            train_one(algo, env_id, args.seed, args.n_timesteps, args.episodes, args.extra.split(), args.gif)
    write_readme()


if __name__ == "__main__":
    main()
