"""Reference returns and D4RL's normalised score.

    normalized_score(R, ref_min, ref_max) = 100 * (R - ref_min) / (ref_max - ref_min)

0 is a uniform random policy, 100 the expert. `reference_scores.json` beside this file holds the returns we
measured ourselves (never copied from D4RL or Minari): ref_min_score is the mean return of uniform random
actions, ref_max_score the mean return of the expert agent named there acting deterministically, each over
`episodes` episodes reset with seeds seed, seed + 1, .... Measure (and record, with --write) an env's pair:

    python -m rl.data.measure_scores --env Hopper-v5 --algo td3 --episodes 100 --write
"""

from __future__ import annotations

import json
import os

import numpy as np

__all__ = ["REFERENCE_SCORES_FILE", "normalized_score", "reference_scores", "env_normalized_score",
           "measure_reference_scores"]

REFERENCE_SCORES_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference_scores.json")


def normalized_score(returns, ref_min_score: float, ref_max_score: float):
    """D4RL's normalised score x 100 of an episode return (a number) or of returns (an array)."""
    lo, hi = float(ref_min_score), float(ref_max_score)
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi == lo:
        raise ValueError(f"reference scores must be finite and differ, got ref_min_score={lo}, ref_max_score={hi}")
    out = 100.0 * (np.asarray(returns, np.float64) - lo) / (hi - lo)
    return float(out) if out.ndim == 0 else out


def _table(path: str = REFERENCE_SCORES_FILE) -> dict:
    with open(path) as fh:
        table = json.load(fh)
    if not isinstance(table, dict):
        raise ValueError(f"{path} must map env ids to reference scores")
    return table


def reference_scores(env_id: str, path: str = REFERENCE_SCORES_FILE) -> tuple[float, float] | None:
    """(ref_min_score, ref_max_score) measured for `env_id`, or None when the table has no entry."""
    entry = _table(path).get(env_id)
    if entry is None:
        return None
    return float(entry["ref_min_score"]), float(entry["ref_max_score"])


def env_normalized_score(env_id: str, returns, path: str = REFERENCE_SCORES_FILE):
    """normalized_score with `env_id`'s measured references, or None when there are none."""
    refs = reference_scores(env_id, path)
    return None if refs is None else normalized_score(returns, *refs)


def _returns(env_id: str, policy_for_env, episodes: int, seed: int) -> np.ndarray:
    import gymnasium as gym

    from .collect import run_policy

    env = gym.make(env_id)
    try:
        eps = run_policy(env, policy_for_env(env), n_episodes=episodes, seed=seed)
    finally:
        env.close()
    return np.array([e.episode_return for e in eps])


def measure_reference_scores(env_id: str, expert, episodes: int = 100, seed: int = 0) -> dict:
    """{ref_min_score, ref_max_score, ...}: mean returns of uniform random actions and of `expert` (an agent
    with predict, deterministic), over `episodes` episodes each."""
    from .collect import agent_policy, random_policy

    random_returns = _returns(env_id, lambda env: random_policy(env.action_space, seed), episodes, seed)
    expert_returns = _returns(env_id, lambda env: agent_policy(expert), episodes, seed)
    return {"ref_min_score": float(random_returns.mean()), "ref_max_score": float(expert_returns.mean()),
            "random_std": float(random_returns.std()), "expert_std": float(expert_returns.std()),
            "episodes": int(episodes), "seed": int(seed)}
