"""CPU milliseconds per env step of `learn()` (one gradient step each), for A/B timing of two checkouts.

    python scripts/bench_learn_step.py --algo sac --env HalfCheetah-v5
    # before/after a change: run it alternately from each checkout (e.g. one unpacked with
    # `git archive REV | tar -x -C /tmp/old`, run there with PYTHONPATH=/tmp/old) and compare medians

256x256 nets, batch 256, 1000 random steps first, then `--chunks` chunks of `--chunk` steps; prints the
median and every chunk's CPU ms/step (process time, so other tenants' load matters less than for wall time).
"""
import argparse
import time

import numpy as np

import rl


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", default="sac", choices=["sac", "td3", "ddpg"])
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--chunk", type=int, default=200)
    parser.add_argument("--chunks", type=int, default=6)
    args = parser.parse_args()
    model = rl.ALGOS[args.algo]("MlpPolicy", args.env, learning_starts=1000, batch_size=256, seed=0,
                                policy_kwargs=dict(net_arch=[256, 256]), buffer_size=100_000)
    model.learn(1100)
    times = []
    for _ in range(args.chunks):
        start = time.process_time()
        model.learn(args.chunk, reset_num_timesteps=False)
        times.append((time.process_time() - start) / args.chunk * 1e3)
    print(f"{args.algo} {args.env} ({rl.__file__}): median {np.median(times):.3f} ms/step, "
          f"chunks {np.round(times, 2).tolist()}")


if __name__ == "__main__":
    main()
