"""HER benchmark on the sparse-reward reaching arm (corenn/ArmReach-v0).

Runs, for each seed, SAC+HER for 10k env steps, TD3+HER for 20k and SAC without HER (plain
Dict replay) for 10k, all with the YAML settings the CLI uses (rl-zoo3's FetchReach entry:
gamma 0.95, lr 1e-3, learning_starts 1000, normalize, net [64, 64], HER future k=4). The
deterministic success rate over `--eval-episodes` fresh episodes is measured at a few
checkpoints during training. Prints a Markdown table; `--json` appends one line per run.

    python scripts/bench_her.py --runs sac-her td3-her sac --seeds 0 1 2 --json /tmp/her_bench.jsonl
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import envs  # noqa: F401 - registers corenn/*
import rl
from rl.core.callbacks import BaseCallback
from rl.core.dict_replay_buffer import DictReplayBuffer
from rl.core.evaluation import run_episodes
from rl.core.vec_env import make_vec_env
from rl.hyperparams import load_hyperparams, preprocess_hyperparams

ENV_ID = "corenn/ArmReach-v0"
RUNS = {  # name: (algo, use HER, env steps)
    "sac-her": ("sac", True, 10_000),
    "td3-her": ("td3", True, 20_000),
    "ddpg-her": ("ddpg", True, 20_000),
    "sac": ("sac", False, 10_000),
}


class SuccessCheckpoints(BaseCallback):
    """Deterministic success rate over n_episodes at the given env-step counts."""

    def __init__(self, steps, n_episodes: int, seed: int):
        super().__init__()
        self.steps, self.n_episodes, self.seed = sorted(steps), n_episodes, seed
        self.results: dict[int, float] = {}

    def _on_step(self) -> bool:
        for step in self.steps:
            if step not in self.results and self.num_timesteps >= step:
                self.results[step] = success_rate(self.model, self.n_episodes, self.seed)
        return True


def success_rate(model, n_episodes: int, seed: int) -> float:
    env = make_vec_env(ENV_ID, n_envs=10, seed=10_000 + seed)
    try:
        return float(np.mean(run_episodes(model, env, n_episodes, deterministic=True)[2]))
    finally:
        env.close()


def make_model(algo: str, her: bool, seed: int):
    hyperparams, _ = load_hyperparams(algo, ENV_ID)
    hyperparams = dict(hyperparams)
    for key in ("n_timesteps", "n_envs"):
        hyperparams.pop(key, None)
    policy = hyperparams.pop("policy", "MultiInputPolicy")
    env = make_vec_env(ENV_ID, n_envs=1, seed=seed)
    kwargs = preprocess_hyperparams(hyperparams, env.single_action_space)
    if not her:
        kwargs["replay_buffer_class"] = DictReplayBuffer
        kwargs.pop("replay_buffer_kwargs", None)
    return rl.ALGOS[algo](policy, env, seed=seed, **kwargs)


def run(name: str, seed: int, n_episodes: int) -> dict:
    algo, her, steps = RUNS[name]
    model = make_model(algo, her, seed)
    checkpoints = SuccessCheckpoints([steps // 4, steps // 2, 3 * steps // 4], n_episodes, seed)
    start = time.perf_counter()
    model.learn(steps, callback=checkpoints)
    final = success_rate(model, n_episodes, seed)
    curve = {**checkpoints.results, steps: final}
    return {"run": name, "algo": algo, "her": her, "seed": seed, "steps": steps, "eval_episodes": n_episodes,
            "success": final, "curve": {str(k): v for k, v in sorted(curve.items())},
            "wall_s": round(time.perf_counter() - start, 1), "date": time.strftime("%Y-%m-%d %H:%M"),
            "machine": f"{platform.machine()} {os.cpu_count()} cores"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", default=["sac-her", "td3-her", "sac"], choices=sorted(RUNS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--eval-episodes", type=int, default=100)
    parser.add_argument("--json", default=None, help="append one JSON line per finished run")
    args = parser.parse_args()
    rows = []
    print("| run | seed | env steps | success at 1/4, 1/2, 3/4, end of training | wall s |")
    print("|---|---|---|---|---|")
    for name in args.runs:
        for seed in args.seeds:
            result = run(name, seed, args.eval_episodes)
            rows.append(result)
            curve = ", ".join(f"{100 * v:.0f}%" for v in result["curve"].values())
            print(f"| {name} | {seed} | {result['steps']} | {curve} | {result['wall_s']} |", flush=True)
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps(result) + "\n")
    print()
    for name in args.runs:
        finals = [r["success"] for r in rows if r["run"] == name]
        print(f"{name}: final deterministic success {', '.join(f'{100 * s:.0f}%' for s in finals)} "
              f"(min {100 * min(finals):.0f}%)")


if __name__ == "__main__":
    main()
