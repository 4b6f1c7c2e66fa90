"""Pixel reaching-arm benchmark (issue 12): a CNN policy on corenn/ArmReachPixels-v0.

For each seed: train `--algo` (PPO by default, SAC optional) with "CnnPolicy" on the 64x64x3 arm
image ("MultiInputPolicy" with --obs pixels_state: image + proprioception) for `--steps` env steps,
then report the deterministic success rate and mean return over `--eval-episodes` fresh episodes,
the training throughput (env steps/s inside learn, updates included) and the raw env throughput
(random actions, no agent: one env, and the vector env used for training). Prints Markdown table
rows for BENCHMARKS.md (command, machine, date); `--json` appends one JSON line per seed.

    python scripts/bench_pixel_arm.py --algo ppo --steps 100000 --seeds 0 1 2 --eval-episodes 50
    python scripts/bench_pixel_arm.py --raw-only                 # env steps/s only, no training
    python scripts/bench_pixel_arm.py --algo sac --obs pixels_state --steps 20000

PPO settings for 64x64 pixels on a 2-core CPU, from rl-zoo3's Atari PPO (8 envs x 128 steps per
rollout, 4 epochs of minibatch 256, lr 2.5e-4) with gamma 0.95 (50-step episodes, ~15 steps to
reach), constant clip 0.2, no entropy bonus, and NatureCNN narrowed to features_dim 128 (from 512)
with the CNN policy's default linear heads. No running-statistics normalisation (`normalize`):
images are scaled to [0, 1] inside the policy, as in SB3. The NatureCNN forward+backward is about
20 MFLOP per sample, so expect on the order of 100 training env steps/s on one core.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gymnasium as gym

import envs  # noqa: F401 - registers corenn/*
import rl
from rl.core.evaluation import run_episodes
from rl.core.vec_env import make_vec_env

ENV_IDS = {"pixels": "corenn/ArmReachPixels-v0", "pixels_state": "corenn/ArmReachPixelsState-v0"}
DEFAULT_POLICY = {"pixels": "CnnPolicy", "pixels_state": "MultiInputPolicy"}


def extractor_kwargs(features_dim: int, obs: str) -> dict:
    """policy_kwargs setting the CNN's output width (NatureCNN's features_dim, CombinedExtractor's
    cnn_output_dim); features_dim 0 keeps the policy's defaults."""
    if features_dim == 0:
        return {}
    key = "features_dim" if obs == "pixels" else "cnn_output_dim"
    return {"policy_kwargs": {"features_extractor_kwargs": {key: features_dim}}}


def ppo_kwargs(features_dim: int, obs: str) -> dict:
    return dict(n_steps=128, batch_size=256, n_epochs=4, learning_rate=2.5e-4, gamma=0.95, gae_lambda=0.95,
                clip_range=0.2, ent_coef=0.0, vf_coef=0.5, max_grad_norm=0.5, **extractor_kwargs(features_dim, obs))


def sac_kwargs(features_dim: int, obs: str) -> dict:
    # 20k transitions of 64x64x3: about 0.5 GB as float32 with optimize_memory_usage (Box only), 1 GB without
    return dict(buffer_size=20_000, learning_starts=1_000, batch_size=128, learning_rate=3e-4, gamma=0.95,
                tau=0.005, train_freq=4, gradient_steps=1, ent_coef="auto", optimize_memory_usage=obs == "pixels",
                **extractor_kwargs(features_dim, obs))


ALGO_KWARGS = {"ppo": ppo_kwargs, "sac": sac_kwargs}
N_ENVS = {"ppo": 8, "sac": 1}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores"


def raw_steps_per_second(env_id: str, n_envs: int, steps: int, size: int, seed: int = 0) -> float:
    """Env steps/s with random actions (rendering included, no agent); n_envs > 1: a sync vector env."""
    if n_envs == 1:
        env = gym.make(env_id, size=size)
        env.reset(seed=seed)
        env.action_space.seed(seed)
        start = time.perf_counter()
        for _ in range(steps):
            *_, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
    else:
        env = make_vec_env(env_id, n_envs=n_envs, seed=seed, env_kwargs={"size": size})
        env.reset()
        start = time.perf_counter()
        for _ in range(max(1, steps // n_envs)):
            env.step(env.action_space.sample())
        steps = max(1, steps // n_envs) * n_envs
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def check_policy(algo_cls, policy: str) -> None:
    if policy not in algo_cls.policy_aliases:
        sys.exit(f"{algo_cls.__name__} has no {policy!r} yet (available: {sorted(algo_cls.policy_aliases)}); "
                 "the CNN policies of issue 12 must land in rl first. --raw-only measures the env alone.")


def run(args, seed: int) -> dict:
    """Train, evaluate and time one seed."""
    env_id, algo_cls = ENV_IDS[args.obs], rl.ALGOS[args.algo]
    n_envs = args.n_envs or N_ENVS[args.algo]
    kwargs = ALGO_KWARGS[args.algo](args.features_dim, args.obs)
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed, env_kwargs={"size": args.size})
    model = algo_cls(args.policy, env, seed=seed, verbose=args.verbose, **kwargs)
    start = time.perf_counter()
    model.learn(args.steps)
    train_s = time.perf_counter() - start
    eval_env = make_vec_env(env_id, n_envs=min(10, args.eval_episodes), seed=10_000 + seed,
                            env_kwargs={"size": args.size})
    try:
        returns, _, successes = run_episodes(model, eval_env, args.eval_episodes, deterministic=True)
    finally:
        eval_env.close()
        env.close()
    return {"algo": args.algo, "policy": args.policy, "env": env_id, "size": args.size, "seed": seed,
            "steps": int(model.num_timesteps), "n_envs": n_envs, "eval_episodes": args.eval_episodes,
            "success": float(np.mean(successes)) if successes else float("nan"),
            "mean_return": float(np.mean(returns)), "train_steps_per_s": model.num_timesteps / train_s,
            "train_s": round(train_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", choices=sorted(ALGO_KWARGS), default="ppo")
    parser.add_argument("--obs", choices=sorted(ENV_IDS), default="pixels",
                        help="pixels: image only (CnnPolicy); pixels_state: image + state (MultiInputPolicy)")
    parser.add_argument("--policy", default=None, help="default: CnnPolicy for pixels, MultiInputPolicy otherwise")
    parser.add_argument("--steps", type=int, default=100_000, help="training env steps per seed")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--eval-episodes", type=int, default=50)
    parser.add_argument("--size", type=int, default=64, help="image height = width (>= 36)")
    parser.add_argument("--features-dim", type=int, default=128, help="CNN output width (0: policy default)")
    parser.add_argument("--n-envs", type=int, default=None, help="default: 8 for PPO, 1 for SAC")
    parser.add_argument("--raw-steps", type=int, default=3_000, help="random-action steps for raw env steps/s")
    parser.add_argument("--raw-only", action="store_true", help="measure raw env steps/s only, no training")
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--json", default=None, help="append one JSON line per seed")
    args = parser.parse_args()
    if args.steps <= 0 or args.eval_episodes <= 0 or args.raw_steps <= 0:
        parser.error("--steps, --eval-episodes and --raw-steps must be positive")
    if args.size < 36:
        parser.error(f"--size must be at least 36 (NatureCNN), got {args.size}")
    args.policy = args.policy or DEFAULT_POLICY[args.obs]
    env_id, n_envs = ENV_IDS[args.obs], args.n_envs or N_ENVS[args.algo]
    command = "python scripts/bench_pixel_arm.py " + shlex.join(sys.argv[1:])
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    raw_1 = raw_steps_per_second(env_id, 1, args.raw_steps, args.size)
    raw_n = raw_steps_per_second(env_id, n_envs, args.raw_steps, args.size) if n_envs > 1 else raw_1
    print(f"`{command}` on {machine()}, {date}, load average {os.getloadavg()[0]:.1f}\n")
    if args.raw_only:
        print("| env | image | raw env steps/s (1 env) | raw env steps/s (sync vector env) |")
        print("|---|---|---|---|")
        print(f"| {env_id} | {args.size}x{args.size}x3 | {raw_1:.0f} | {raw_n:.0f} ({n_envs} envs) |")
        return
    check_policy(rl.ALGOS[args.algo], args.policy)
    print("| algo | policy | env | seed | env steps | success | mean return | train steps/s | "
          "raw env steps/s (1 env / vector) | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    results = []
    for seed in args.seeds:
        r = run(args, seed)
        r.update(raw_steps_per_second_1=raw_1, raw_steps_per_second_vec=raw_n, command=command,
                 machine=machine(), date=date)
        results.append(r)
        print(f"| {r['algo']} | {r['policy']} | {env_id} | {seed} | {r['steps']} | {100 * r['success']:.0f}% "
              f"| {r['mean_return']:.2f} | {r['train_steps_per_s']:.0f} | {raw_1:.0f} / {raw_n:.0f} "
              f"| {r['train_s']} |", flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(r) + "\n")
    success = [r["success"] for r in results]
    print(f"\n{args.algo} {args.policy}, {len(results)} seed(s): success {100 * np.mean(success):.0f}% "
          f"(min {100 * np.min(success):.0f}%), mean return {np.mean([r['mean_return'] for r in results]):.2f}, "
          f"train {np.mean([r['train_steps_per_s'] for r in results]):.0f} env steps/s")


if __name__ == "__main__":
    main()
