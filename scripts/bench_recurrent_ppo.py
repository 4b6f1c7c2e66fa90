"""Per-step speed of RecurrentPPO with rl-zoo3's settings (rl/hyperparams/ppo_lstm.yml) on a short run.

    python scripts/bench_recurrent_ppo.py --env CartPoleNoVel-v1 --steps 10000
prints steps/s and the estimated wall time of the YAML's full n_timesteps.
"""
import argparse
import time

from rl import RecurrentPPO
from rl.hyperparams import resolve


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--env", default="CartPoleNoVel-v1")
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    hp = resolve("ppo_lstm", args.env)
    model = RecurrentPPO(hp.policy, args.env, n_envs=hp.n_envs, seed=args.seed, **hp.kwargs)
    start = time.perf_counter()
    model.learn(args.steps)
    elapsed = time.perf_counter() - start
    rate = model.num_timesteps / elapsed
    print(f"{args.env}: {model.num_timesteps} steps in {elapsed:.1f} s = {rate:.0f} steps/s; "
          f"full run of {hp.n_timesteps} steps ~ {hp.n_timesteps / rate / 60:.1f} min")


if __name__ == "__main__":
    main()
