"""Learning benchmarks for the off-policy algorithms (DQN, Double DQN, SAC, TD3).

Short runs (minutes each on a 2-core CPU), rl-zoo3 hyperparameters read from rl/hyperparams/*.yml
(ddqn uses dqn.yml):
    python scripts/bench_offpolicy.py pendulum --algo sac td3 --seeds 0      # 20k steps, target >= -160
    python scripts/bench_offpolicy.py cartpole --algo dqn ddqn --seeds 0     # 50k steps, target >= 475
    python scripts/bench_offpolicy.py cartpole --algo sb3-dqn --seeds 0      # same settings with SB3 (parity)
    python scripts/bench_offpolicy.py cartpole --algo dqn --eval-freq 5000  # + best EvalCallback checkpoint

Long runs (hours) are resumable: every --chunk steps the agent, its replay buffer and the learning
curve are written to --out; running the same command again continues from there.
    nohup python scripts/bench_offpolicy.py curve --algo sac --env HalfCheetah-v5 --steps 300000 \\
        --out runs/offpolicy/sac_halfcheetah > runs/offpolicy/sac_halfcheetah.log 2>&1 &
    nohup python scripts/bench_offpolicy.py curve --algo td3 --env Hopper-v5 --steps 300000 \\
        --out runs/offpolicy/td3_hopper > runs/offpolicy/td3_hopper.log 2>&1 &
    python scripts/bench_offpolicy.py report --out runs/offpolicy/sac_halfcheetah   # print the curve so far

Each final/partial figure is a deterministic evaluation (mean over --eval-episodes episodes).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import tempfile
import time

import numpy as np
import yaml

from rl import DDPG, DQN, SAC, TD3, DoubleDQN, evaluate_policy, linear_schedule, make_vec_env
from rl.core.callbacks import EvalCallback
from rl.hyperparams import ResolvedHyperparams, resolve

ALGOS = {"sac": SAC, "td3": TD3, "ddpg": DDPG, "dqn": DQN, "ddqn": DoubleDQN}
YAML_NAMES = {"ddqn": "dqn"}  # algorithms that read another algorithm's hyperparameter file


def zoo_hyperparams(algo: str, env_id: str, env, overrides: dict | None = None) -> ResolvedHyperparams:
    """rl-zoo3 settings: the `env_id` entry of rl/hyperparams/<algo>.yml (see docs/reference), with overrides."""
    return resolve(YAML_NAMES.get(algo, algo), env_id, overrides, algo_cls=ALGOS[algo],
                   observation_space=env.single_observation_space, action_space=env.single_action_space)


def parse_overrides(pairs) -> dict:
    """--set KEY=VALUE ... -> kwargs; 'lin_X' values become linear schedules from X to 0."""
    out = {}
    for pair in pairs or []:
        key, _, value = pair.partition("=")
        out[key] = linear_schedule(float(value[4:])) if value.startswith("lin_") else yaml.safe_load(value)
    return out


def short_run(algo: str, env_id: str, steps: int, seed: int, eval_episodes: int, eval_freq: int = 0,
              overrides: dict | None = None) -> dict:
    """Train, then evaluate the final agent; with eval_freq > 0 also the best checkpoint of an
    EvalCallback (5 episodes every eval_freq steps, what rl-zoo3 keeps as best_model)."""
    env = make_vec_env(env_id, n_envs=1, seed=seed)
    hp = zoo_hyperparams(algo, env_id, env, overrides)
    model = ALGOS[algo](hp.policy, env, seed=seed, **hp.kwargs)
    callback, best_dir = None, tempfile.mkdtemp(prefix="bench_offpolicy_")
    if eval_freq > 0:
        callback = EvalCallback(make_vec_env(env_id, n_envs=1, seed=seed + 2000), n_eval_episodes=5,
                                eval_freq=eval_freq, best_model_save_path=best_dir, verbose=0)
    start = time.perf_counter()
    model.learn(steps, callback=callback)
    train_s = time.perf_counter() - start
    eval_env = make_vec_env(env_id, n_envs=1, seed=seed + 1000)
    mean, std = evaluate_policy(model, eval_env, eval_episodes)
    row = dict(algo=algo, env=env_id, seed=seed, steps=steps, eval_mean=mean, eval_std=std,
               train_s=train_s, steps_per_s=steps / train_s)
    if eval_freq > 0 and os.path.exists(os.path.join(best_dir, "best_model.npz")):
        best = ALGOS[algo].load(os.path.join(best_dir, "best_model.npz"))
        row["best_eval_mean"], row["best_eval_std"] = evaluate_policy(best, eval_env, eval_episodes)
    shutil.rmtree(best_dir, ignore_errors=True)
    return row


def sb3_short_run(algo: str, env_id: str, steps: int, seed: int, eval_episodes: int) -> dict:
    """The same run with Stable-Baselines3 (DQN / SAC / TD3 / DDPG) for a parity check."""
    import stable_baselines3 as sb3
    from stable_baselines3.common.evaluation import evaluate_policy as sb3_evaluate
    from stable_baselines3.common.noise import NormalActionNoise as SB3Noise

    env = make_vec_env(env_id, n_envs=1, seed=seed)
    hp = zoo_hyperparams(algo, env_id, env)
    kwargs = dict(hp.kwargs)
    if "action_noise" in kwargs:
        if hp.config["noise_type"] != "normal":
            raise SystemExit(f"sb3 parity runs support noise_type 'normal' only, not {hp.config['noise_type']!r}")
        action_dim = int(np.prod(env.single_action_space.shape))
        kwargs["action_noise"] = SB3Noise(np.zeros(action_dim), hp.config.get("noise_std", 0.1) * np.ones(action_dim))
    env.close()
    model = getattr(sb3, algo.upper())(hp.policy, env_id, seed=seed, device="cpu", **kwargs)
    start = time.perf_counter()
    model.learn(steps)
    train_s = time.perf_counter() - start
    import gymnasium as gym

    eval_env = gym.make(env_id)
    eval_env.reset(seed=seed + 1000)
    mean, std = sb3_evaluate(model, eval_env, eval_episodes, deterministic=True)
    return dict(algo="sb3-" + algo, env=env_id, seed=seed, steps=steps, eval_mean=float(mean),
                eval_std=float(std), train_s=train_s, steps_per_s=steps / train_s)


def cmd_short(args, env_id: str, default_steps: int, target: float) -> None:
    rows = []
    for algo in args.algo:
        for seed in args.seeds:
            if algo.startswith("sb3-"):
                row = sb3_short_run(algo[4:], env_id, args.steps or default_steps, seed, args.eval_episodes)
            else:
                row = short_run(algo, env_id, args.steps or default_steps, seed, args.eval_episodes,
                                args.eval_freq, parse_overrides(args.set))
            rows.append(row)
            print(f"{algo:5s} {env_id} seed {seed}: eval {row['eval_mean']:.1f} +/- {row['eval_std']:.1f} "
                  f"after {row['steps']} steps ({row['train_s']:.0f} s, {row['steps_per_s']:.0f} steps/s) "
                  f"[target >= {target}: {'met' if row['eval_mean'] >= target else 'NOT met'}]"
                  + (f"; best checkpoint: {row['best_eval_mean']:.1f} +/- {row['best_eval_std']:.1f}"
                     if "best_eval_mean" in row else ""), flush=True)
    if args.json:
        with open(args.json, "a") as fh:
            for row in rows:
                fh.write(json.dumps(row) + "\n")


def cmd_curve(args) -> None:
    """Resumable long run: chunks of --chunk steps, checkpoint (with replay buffer) + eval after each."""
    os.makedirs(args.out, exist_ok=True)
    ckpt, curve_path = os.path.join(args.out, "model.npz"), os.path.join(args.out, "curve.csv")
    cls = ALGOS[args.algo]
    env = make_vec_env(args.env, n_envs=1, seed=args.seeds[0])
    eval_env = make_vec_env(args.env, n_envs=1, seed=args.seeds[0] + 1000)
    if os.path.exists(ckpt):
        model = cls.load(ckpt, env=env)
        print(f"resumed {args.algo} {args.env} at {model.num_timesteps} steps from {ckpt}", flush=True)
    else:
        hp = zoo_hyperparams(args.algo, args.env, env)
        model = cls(hp.policy, env, seed=args.seeds[0], **hp.kwargs)
        with open(curve_path, "w", newline="") as fh:
            csv.writer(fh).writerow(["timesteps", "eval_mean", "eval_std", "train_ep_rew_mean", "chunk_s",
                                     "chunk_steps_per_s", "date"])
    while model.num_timesteps < args.steps:
        chunk = min(args.chunk, args.steps - model.num_timesteps)
        start, before = time.perf_counter(), model.num_timesteps
        model.learn(chunk, reset_num_timesteps=False, log_interval=None)
        chunk_s = time.perf_counter() - start
        mean, std = evaluate_policy(model, eval_env, args.eval_episodes)
        train_rew = np.mean([e["r"] for e in model.ep_info_buffer]) if model.ep_info_buffer else float("nan")
        model.save(ckpt, include_replay_buffer=True)
        with open(curve_path, "a", newline="") as fh:
            csv.writer(fh).writerow([model.num_timesteps, f"{mean:.1f}", f"{std:.1f}", f"{train_rew:.1f}",
                                     f"{chunk_s:.0f}", f"{(model.num_timesteps - before) / chunk_s:.1f}",
                                     time.strftime("%Y-%m-%d %H:%M")])
        print(f"{model.num_timesteps:>8d} steps: eval {mean:8.1f} +/- {std:6.1f}  train {train_rew:8.1f}  "
              f"({(model.num_timesteps - before) / chunk_s:.1f} steps/s)", flush=True)


def cmd_report(args) -> None:
    with open(os.path.join(args.out, "curve.csv")) as fh:
        rows = list(csv.DictReader(fh))
    print("| steps | eval mean +/- std | train ep_rew_mean | steps/s | date |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {int(r['timesteps']):,} | {r['eval_mean']} +/- {r['eval_std']} | {r['train_ep_rew_mean']} | "
              f"{r['chunk_steps_per_s']} | {r['date']} |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["pendulum", "cartpole", "curve", "report"])
    parser.add_argument("--algo", nargs="+", default=None)
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--steps", type=int, default=0)
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--eval-freq", type=int, default=0, help="short runs: also keep the best of an "
                        "EvalCallback run every N steps and report its evaluation")
    parser.add_argument("--out", default="runs/offpolicy/run")
    parser.add_argument("--set", nargs="+", default=None, metavar="KEY=VALUE",
                        help="short runs: override a setting, e.g. learning_rate=lin_2.3e-3 (linear to 0)")
    parser.add_argument("--json", default=None, help="append one JSON line per run to this file")
    args = parser.parse_args(argv)
    if args.what == "pendulum":
        args.algo = args.algo or ["sac", "td3"]
        cmd_short(args, "Pendulum-v1", 20_000, -160.0)
    elif args.what == "cartpole":
        args.algo = args.algo or ["dqn", "ddqn"]
        cmd_short(args, "CartPole-v1", 50_000, 475.0)
    elif args.what == "curve":
        args.algo = (args.algo or ["sac"])[0]
        if not args.steps:
            args.steps = 300_000
        args.eval_episodes = min(args.eval_episodes, 5)
        cmd_curve(args)
    else:
        cmd_report(args)


if __name__ == "__main__":
    main()
