"""`python -m rl.data.measure_scores`: measure an env's reference returns (rl.data.scores) and record them.

    python -m rl.data.measure_scores --env Hopper-v5 --algo td3 --episodes 100 --write
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import gymnasium as gym

from .scores import REFERENCE_SCORES_FILE, _table, measure_reference_scores

__all__ = ["main"]


def _ensure_registered(env_id: str) -> None:
    """Register this project's corenn/... envs when `env_id` is not a Gymnasium one."""
    if env_id not in gym.registry:
        try:
            import envs  # noqa: F401
        except ImportError:
            pass
    gym.spec(env_id)  # gym.error.Error naming an unknown id


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rl.data.measure_scores", description=__doc__.split("\n")[0])
    parser.add_argument("--env", required=True, help="environment id, e.g. Hopper-v5")
    parser.add_argument("--algo", required=True, help="the expert: a pretrained agent (e.g. td3 on Hopper-v5)")
    parser.add_argument("--model", default=None, help="the expert from this .npz file instead of the zoo")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help=f"record the result in {REFERENCE_SCORES_FILE}")
    args = parser.parse_args(argv)
    try:
        _ensure_registered(args.env)
        if args.model:
            from rl import ALGOS

            expert, source = ALGOS[args.algo].load(args.model), args.model
        else:
            from rl.pretrained import load_pretrained

            expert, source = load_pretrained(args.algo, args.env)
    except (KeyError, FileNotFoundError, ValueError, gym.error.Error) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    entry = measure_reference_scores(args.env, expert, args.episodes, args.seed)
    entry["expert"] = f"{args.algo} ({source})"
    print(json.dumps({args.env: entry}, indent=2))
    if args.write:
        table = _table()
        table[args.env] = entry
        tmp = REFERENCE_SCORES_FILE + f".{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            json.dump(dict(sorted(table.items())), fh, indent=2)
            fh.write("\n")
        os.replace(tmp, REFERENCE_SCORES_FILE)
        print(f"written to {REFERENCE_SCORES_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
