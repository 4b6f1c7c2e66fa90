"""SAC training speed: corenn (rl.SAC) against Stable-Baselines3 SAC, same hyperparameters, same process.

Both agents use 256x256 ReLU nets, batch 256, one gradient step per env step (train_freq 1),
buffer 1e6, lr 3e-4, ent_coef "auto". After `--learning-starts` random steps each agent is timed on
alternating chunks of `--chunk` env steps (ours, SB3, ours, SB3, ...) so both see the same machine
load; we report the median over rounds of wall-clock steps/s and of CPU seconds per step.

    python scripts/bench_sac_vs_sb3.py --envs Pendulum-v1 HalfCheetah-v5 --threads 1
    python scripts/bench_sac_vs_sb3.py --envs Pendulum-v1 --threads default   # SB3 with torch's default threads
    python scripts/bench_sac_vs_sb3.py --envs HalfCheetah-v5 --profile-only   # time split of ours

--threads 1: both libraries single-threaded (BLAS / torch intra-op). --threads default: ours with
its default (1 BLAS thread), SB3 with torch's default thread count. The time split instruments our
agent by wrapping its methods (env.step, replay sampling, actor/critic forward, backward, optimizer
steps, polyak), so the library code runs unchanged.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import sys
import time
from collections import defaultdict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench_sac_vs_sbx import timed_learn  # noqa: E402 (this folder is on sys.path when run as a script)

import corenn
import rl.off_policy_actor_critic.sac as sac_module
from rl.off_policy_actor_critic.sac import SAC

COMMON = dict(learning_rate=3e-4, buffer_size=1_000_000, batch_size=256, tau=0.005, gamma=0.99, train_freq=1,
              gradient_steps=1, ent_coef="auto", policy_kwargs=dict(net_arch=[256, 256]))


def make_ours(env_id: str, learning_starts: int, seed: int):
    return SAC("MlpPolicy", env_id, seed=seed, learning_starts=learning_starts, blas_num_threads=1,
               **copy.deepcopy(COMMON))


def make_sb3(env_id: str, learning_starts: int, seed: int):
    from stable_baselines3 import SAC as SB3SAC
    from stable_baselines3.common.logger import configure

    model = SB3SAC("MlpPolicy", env_id, seed=seed, learning_starts=learning_starts, device="cpu",
                   **copy.deepcopy(COMMON))  # SB3 writes into policy_kwargs
    model.set_logger(configure(None, []))
    return model


def compare(env_id: str, args) -> dict:
    import torch

    if args.threads == "1":
        torch.set_num_threads(1)
    ours, sb3 = make_ours(env_id, args.learning_starts, 0), make_sb3(env_id, args.learning_starts, 0)
    for model in (ours, sb3):  # random warm-up steps, then a few updates, not timed
        model.learn(args.learning_starts + 50, log_interval=None)
    res = defaultdict(list)
    for _ in range(args.rounds):
        for name, model in (("ours", ours), ("sb3", sb3)):
            wall, cpu = timed_learn(model, args.chunk)
            res[name + "_sps"].append(args.chunk / wall)
            res[name + "_cpu_ms"].append(cpu / args.chunk * 1e3)
    out = {k: float(np.median(v)) for k, v in res.items()}
    out.update(env=env_id, torch_threads=torch.get_num_threads(), ratio_sps=out["ours_sps"] / out["sb3_sps"],
               ratio_cpu=out["sb3_cpu_ms"] / out["ours_cpu_ms"])
    return out


# ----------------------------------------------------------------------------- time split
def profile_split(env_id: str, args) -> dict:
    """Per-step wall time of our agent split into env / acting / sampling / critic / actor / optimizer / other.

    critic: target (a' ~ pi(s'), Q'(s', a')) + critic forward/backward; actor: actor forward, the critics'
    forward inside the actor loss and its backward; optimizer: Adam steps (actor, critic, alpha) + polyak.
    """
    model = make_ours(env_id, args.learning_starts, 0)
    model.learn(args.learning_starts + 50, log_interval=None)
    acc = defaultdict(float)
    policy = model.policy
    state = {"critic_calls": 0, "backward_calls": 0, "in_train": False}

    def wrap(obj, name, category):
        fn = getattr(obj, name)

        def timed(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                cat = category(*a, **kw) if callable(category) else category
                acc[cat] += time.perf_counter() - t
        setattr(obj, name, timed)

    def critic_category(*a, **kw):  # 1st critic call per update: critic loss; 2nd: inside the actor loss
        state["critic_calls"] += 1
        return "critic" if state["critic_calls"] % 2 == 1 else "actor"

    backward_order = (["optimizer"] if model.log_ent_coef is not None else []) + ["critic", "actor"]

    def backward_category(*a, **kw):  # per update: the entropy coefficient's loss (when learned), critic, actor
        state["backward_calls"] += 1
        return backward_order[(state["backward_calls"] - 1) % len(backward_order)]

    def actor_category(*a, **kw):  # no-grad calls: acting in the env, or a' ~ pi(s') for the critic target
        if corenn.is_grad_enabled():
            return "actor"
        return "critic" if state["in_train"] else "acting (policy forward for env.step)"

    real_train = model.train

    def train(*a, **kw):
        state["in_train"] = True
        try:
            return real_train(*a, **kw)
        finally:
            state["in_train"] = False
    model.train = train

    wrap(model.env, "step", "env")
    wrap(model, "_sample_batch", "sampling")
    wrap(policy.actor, "forward", actor_category)
    wrap(policy.critic, "forward", critic_category)
    wrap(policy.critic_target, "forward", "critic")
    wrap(corenn.Tensor, "backward", backward_category)
    for opt in (policy.actor.optimizer, policy.critic.optimizer, model.ent_coef_optimizer):
        wrap(opt, "step", "optimizer")
    real_polyak = sac_module.polyak_update
    sac_module.polyak_update = lambda *a, **kw: _timed_call(acc, "optimizer", real_polyak, *a, **kw)
    try:
        t = time.perf_counter()
        model.learn(args.profile_steps, reset_num_timesteps=False, log_interval=None)
        total = time.perf_counter() - t
    finally:
        sac_module.polyak_update = real_polyak
        corenn.Tensor.backward = _ORIGINAL_BACKWARD
    split = {k: v / args.profile_steps * 1e3 for k, v in acc.items()}
    split["other (python, logging, buffer add)"] = total / args.profile_steps * 1e3 - sum(split.values())
    split["total"] = total / args.profile_steps * 1e3
    return split


def _timed_call(acc, category, fn, *a, **kw):
    t = time.perf_counter()
    try:
        return fn(*a, **kw)
    finally:
        acc[category] += time.perf_counter() - t


_ORIGINAL_BACKWARD = corenn.Tensor.backward


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", nargs="+", default=["Pendulum-v1", "HalfCheetah-v5"])
    parser.add_argument("--threads", choices=["1", "default"], default="1")
    parser.add_argument("--learning-starts", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile-steps", type=int, default=500)
    parser.add_argument("--profile-only", action="store_true")
    args = parser.parse_args(argv)
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}  {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at start, numpy {np.__version__}")
    if not args.profile_only:
        print("| env | threads (ours / torch) | ours steps/s | SB3 steps/s | ratio (wall) | ours CPU ms/step | "
              "SB3 CPU ms/step | ratio (CPU) |\n|---|---|---|---|---|---|---|---|")
        for env_id in args.envs:
            r = compare(env_id, args)
            print(f"| {env_id} | 1 / {r['torch_threads']} | {r['ours_sps']:.1f} | {r['sb3_sps']:.1f} | "
                  f"{r['ratio_sps']:.2f}x | {r['ours_cpu_ms']:.2f} | {r['sb3_cpu_ms']:.2f} | {r['ratio_cpu']:.2f}x |",
                  flush=True)
    for env_id in args.envs:
        split = profile_split(env_id, args)
        total = split.pop("total")
        print(f"\nTime split of one training step, ours, {env_id} ({total:.2f} ms/step wall over "
              f"{args.profile_steps} steps, load average {os.getloadavg()[0]:.1f}):")
        for k, v in sorted(split.items(), key=lambda kv: -kv[1]):
            print(f"  {k:38s} {v:6.2f} ms  {100 * v / total:5.1f} %")


if __name__ == "__main__":
    main()
