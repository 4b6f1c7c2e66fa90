"""The rl-zoo3-style hyperparameter files next to this module: {algo}.yml maps env ids to entries."""

from __future__ import annotations

import os

import yaml

__all__ = ["HYPERPARAMS_DIR", "available_algos", "read_yaml", "load_hyperparams"]

HYPERPARAMS_DIR = os.path.dirname(os.path.abspath(__file__))


def available_algos() -> list[str]:
    """The algorithms that have a hyperparameter file."""
    return sorted(f[:-4] for f in os.listdir(HYPERPARAMS_DIR) if f.endswith(".yml"))


def read_yaml(algo: str) -> dict:
    """The whole {algo}.yml as a dict (env id -> hyperparameters)."""
    path = os.path.join(HYPERPARAMS_DIR, f"{algo}.yml")
    if not os.path.exists(path):
        raise FileNotFoundError(f"no hyperparameter file for {algo!r}; known: {', '.join(available_algos())}")
    with open(path) as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} must map env ids to hyperparameter dicts")
    return data


def load_hyperparams(algo: str, env_id: str) -> tuple[dict, str]:
    """(hyperparameters, entry name): the env's entry, or 'default' for envs not listed."""
    data = read_yaml(algo)
    key = env_id if env_id in data else "default"
    if key not in data:
        raise KeyError(f"{algo}.yml has no entry for {env_id!r} and no 'default' entry")
    return dict(data[key]), key
