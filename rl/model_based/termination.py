"""Known termination functions for model rollouts (mbrl-lib's `mbrl/env/termination_fns.py`, rewritten).

A learned model predicts the next observation and the reward, not whether the episode ends; MBPO
asks a hand-written rule instead, as mbrl-lib does:

    done = termination_fn(next_obs)      next_obs (N, obs_dim) float -> (N,) bool

`termination_fn_for(name_or_none, env_id)` picks one by name ("hopper", "inverted_pendulum",
"no_termination") or, given None, from the env id ("Hopper-v5" -> hopper). An env without a known
rule is a ValueError naming it and the choices.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["TERMINATION_FNS", "ENV_TERMINATION", "hopper", "inverted_pendulum", "no_termination",
           "termination_fn_for"]


def hopper(next_obs: np.ndarray) -> np.ndarray:
    """Gymnasium's Hopper healthy check: finite, |obs[1:]| < 100, height > 0.7, |angle| < 0.2."""
    height, angle = next_obs[:, 0], next_obs[:, 1]
    healthy = (np.isfinite(next_obs).all(axis=1) & (np.abs(next_obs[:, 1:]) < 100.0).all(axis=1)
               & (height > 0.7) & (np.abs(angle) < 0.2))
    return ~healthy


def inverted_pendulum(next_obs: np.ndarray) -> np.ndarray:
    """InvertedPendulum ends when the pole angle |obs[1]| exceeds 0.2 rad (or a value is not finite)."""
    return ~(np.isfinite(next_obs).all(axis=1) & (np.abs(next_obs[:, 1]) <= 0.2))


def no_termination(next_obs: np.ndarray) -> np.ndarray:
    """Episodes end only by time limit (the point-mass line env, Pendulum)."""
    return np.zeros(len(next_obs), dtype=bool)


TERMINATION_FNS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "hopper": hopper, "inverted_pendulum": inverted_pendulum, "no_termination": no_termination}

# env ids without their version ("Hopper" matches Hopper-v4 and Hopper-v5) -> termination function name
ENV_TERMINATION = {"Hopper": "hopper", "InvertedPendulum": "inverted_pendulum", "Pendulum": "no_termination",
                   "corenn/PointMassLine": "no_termination"}


def termination_fn_for(name: str | None, env_id: str | None) -> Callable[[np.ndarray], np.ndarray]:
    """The termination function called `name`, or the one known for `env_id` when name is None."""
    if name is not None:
        if name not in TERMINATION_FNS:
            raise ValueError(f"unknown termination_fn {name!r}; use one of {sorted(TERMINATION_FNS)}")
        return TERMINATION_FNS[name]
    base = (env_id or "").rsplit("-v", 1)[0]
    if base not in ENV_TERMINATION:
        raise ValueError(f"MBPO needs a termination function for the model rollouts and knows none for the env "
                         f"{env_id!r} (known: {', '.join(sorted(ENV_TERMINATION))}); pass termination_fn= one of "
                         f"{sorted(TERMINATION_FNS)}")
    return TERMINATION_FNS[ENV_TERMINATION[base]]
