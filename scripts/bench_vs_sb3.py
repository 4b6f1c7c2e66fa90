"""Wall-clock and return of our agents against Stable-Baselines3 with identical hyperparameters.

Both sides run in this process, back to back per seed (the order alternates between seeds so
machine-load drift does not favour one side), on CPU. One function per algorithm; pick with --algo.

    python scripts/bench_vs_sb3.py --algo ppo --seeds 0 1 2
    python scripts/bench_vs_sb3.py --algo ppo --timesteps 20000 --seeds 0   # quick check
    python scripts/bench_vs_sb3.py --algo ppo --profile                     # where our time goes

Prints a markdown table (wall time of learn(), deterministic evaluation mean over --n-eval
episodes, time ratio ours/SB3) and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# rl-zoo3 hyperparams/ppo.yml, CartPole-v1 (learning_rate / clip_range are lin_ schedules)
PPO_CARTPOLE = dict(n_envs=8, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20, ent_coef=0.0,
                    learning_rate=1e-3, clip_range=0.2)


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def run_ppo_ours(seed: int, timesteps: int, n_eval: int, env_id: str = "CartPole-v1", hp: dict = PPO_CARTPOLE):
    from rl import PPO, evaluate_policy
    from rl.core.schedules import linear_schedule
    from rl.core.vec_env import make_vec_env

    kw = dict(hp)
    n_envs = kw.pop("n_envs")
    lr, clip = kw.pop("learning_rate"), kw.pop("clip_range")
    start, cpu = time.perf_counter(), time.process_time()
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed)
    model = PPO("MlpPolicy", env, learning_rate=linear_schedule(lr), clip_range=linear_schedule(clip), seed=seed, **kw)
    model.learn(timesteps)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    mean, std = evaluate_policy(model, env_id, n_eval_episodes=n_eval, deterministic=True)
    return wall, mean, std, cpu


def run_ppo_sb3(seed: int, timesteps: int, n_eval: int, env_id: str = "CartPole-v1", hp: dict = PPO_CARTPOLE):
    import gymnasium as gym
    from stable_baselines3 import PPO as SB3PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    kw = dict(hp)
    n_envs = kw.pop("n_envs")
    lr, clip = kw.pop("learning_rate"), kw.pop("clip_range")
    start, cpu = time.perf_counter(), time.process_time()
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed)
    model = SB3PPO("MlpPolicy", env, learning_rate=lambda p: p * lr, clip_range=lambda p: p * clip, seed=seed,
                   device="cpu", **kw)
    model.learn(timesteps)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    mean, std = evaluate_policy(model, gym.make(env_id), n_eval_episodes=n_eval, deterministic=True)
    return wall, mean, std, cpu


ALGOS = {"ppo": (run_ppo_ours, run_ppo_sb3, "PPO CartPole-v1 (rl-zoo3 settings)")}


def profile_ppo(timesteps: int, seed: int = 0, env_id: str = "CartPole-v1", hp: dict = PPO_CARTPOLE) -> None:
    """cProfile (CPU-time timer) of our PPO learn(); prints the time split and the top functions."""
    import cProfile
    import pstats

    from rl import PPO
    from rl.core.schedules import linear_schedule

    kw = dict(hp)
    n_envs, lr, clip = kw.pop("n_envs"), kw.pop("learning_rate"), kw.pop("clip_range")
    model = PPO("MlpPolicy", env_id, n_envs=n_envs, learning_rate=linear_schedule(lr),
                clip_range=linear_schedule(clip), seed=seed, **kw)
    prof = cProfile.Profile(time.process_time)
    prof.enable()
    model.learn(timesteps)
    prof.disable()
    st = pstats.Stats(prof)

    def cum(file_part, func):
        return sum(v[3] for k, v in st.stats.items() if file_part in k[0] and k[2] == func)

    total = cum("on_policy_algorithm.py", "learn")
    train, fwd, bwd = cum("ppo.py", "train"), cum("policies.py", "evaluate_actions"), cum("tensor.py", "backward")
    adam, clip_t = cum("optimizer.py", "step"), cum("utils.py", "clip_grad_norm_")
    rows = [("learn total", total), ("train() (PPO update)", train), ("  evaluate_actions forward", fwd),
            ("  loss.backward() (corenn autograd)", bwd), ("    of which toposort", cum("autograd.py", "toposort")),
            ("    of which linear backward", cum("linalg.py", "backward")), ("  Adam step", adam),
            ("  clip_grad_norm_", clip_t), ("  loss construction, statistics", train - fwd - bwd - adam - clip_t),
            ("collect_rollouts()", cum("on_policy_algorithm.py", "collect_rollouts")),
            ("  env.step (gymnasium)", cum("wrappers/vector/common.py", "step")),
            ("  policy.act (NumPy fast path)", cum("policies.py", "act")),
            ("  rollout buffer add + GAE", cum("rollout_buffer.py", "add") + cum("rollout_buffer.py", "compute_gae"))]
    print("| part | CPU s | share |\n|---|---|---|")
    for name, value in rows:
        print(f"| {name} | {value:.2f} | {100 * value / max(total, 1e-9):.0f}% |")
    st.sort_stats("tottime").print_stats(20)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", choices=sorted(ALGOS), default="ppo")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--timesteps", type=int, default=100_000)
    parser.add_argument("--n-eval", type=int, default=10)
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="torch.set_num_threads for SB3 (default: torch's own default)")
    parser.add_argument("--skip-sb3", action="store_true", help="only run ours")
    parser.add_argument("--profile", action="store_true", help="profile our learn() instead of comparing")
    args = parser.parse_args(argv)
    if args.profile:
        profile_ppo(args.timesteps, args.seeds[0])
        return 0

    ours_fn, sb3_fn, title = ALGOS[args.algo]
    have_sb3 = not args.skip_sb3
    if have_sb3:
        try:
            import torch
            if args.torch_threads:
                torch.set_num_threads(args.torch_threads)
            torch_threads = torch.get_num_threads()
        except ImportError:
            print("torch / stable_baselines3 not installed: running ours only", file=sys.stderr)
            have_sb3 = False
    print(f"# {title}, {args.timesteps} steps, deterministic eval over {args.n_eval} episodes")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; machine: {platform.machine()}, "
          f"{os.cpu_count()} CPUs; python {platform.python_version()}; load before: {_load()}"
          + (f"; torch threads: {torch_threads}" if have_sb3 else ""))
    rows = []
    for i, seed in enumerate(args.seeds):
        order = ["ours", "sb3"] if i % 2 == 0 else ["sb3", "ours"]
        res = {}
        for side in order:
            if side == "sb3" and not have_sb3:
                continue
            res[side] = (ours_fn if side == "ours" else sb3_fn)(seed, args.timesteps, args.n_eval)
            print(f"  seed {seed} {side}: {res[side][0]:.1f} s wall, {res[side][3]:.1f} s CPU, eval {res[side][1]:.1f}"
                  f" +/- {res[side][2]:.1f} (load {_load()})", flush=True)
        rows.append((seed, res))
    print()
    print("| seed | ours wall (s) | ours CPU (s) | ours eval | SB3 wall (s) | SB3 CPU (s) | SB3 eval "
          "| wall ratio ours/SB3 | CPU ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for seed, res in rows:
        o, s = res["ours"], res.get("sb3")
        sb3_cols = f"{s[0]:.1f} | {s[3]:.1f} | {s[1]:.1f}" if s else "- | - | -"
        ratio = f"{o[0] / s[0]:.2f} | {o[3] / s[3]:.2f}" if s else "- | -"
        print(f"| {seed} | {o[0]:.1f} | {o[3]:.1f} | {o[1]:.1f} | {sb3_cols} | {ratio} |")
    if have_sb3 and len(rows) > 1:
        tot = {side: np.array([r[side] for _, r in rows]) for side in ("ours", "sb3")}
        o, s = tot["ours"], tot["sb3"]
        print(f"| all | {o[:, 0].mean():.1f} | {o[:, 3].mean():.1f} | {o[:, 1].mean():.1f} | {s[:, 0].mean():.1f} | "
              f"{s[:, 3].mean():.1f} | {s[:, 1].mean():.1f} | {o[:, 0].sum() / s[:, 0].sum():.2f} | "
              f"{o[:, 3].sum() / s[:, 3].sum():.2f} |")
    print(f"\nload after: {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
