"""Hyperparameters from a YAML file named on the command line: `python -m rl train -conf tuned.yml`
(rl-zoo3's --conf-file). The file has the shape of rl/hyperparams/{algo}.yml: env id -> entry, with
an optional 'default' entry; `python -m rl tune` writes one (rl.distributed.tune)."""

from __future__ import annotations

import os

import yaml

from .parsing import HyperparameterError

__all__ = ["load_conf_file"]


def load_conf_file(path: str, env_id: str) -> tuple[dict, str]:
    """(entry, entry name) for `env_id` from the YAML file `path` (its 'default' entry for an env not
    listed); HyperparameterError naming the file for a missing, unreadable or misshapen file."""
    if not os.path.isfile(path):
        what = "is a folder, not a YAML file" if os.path.isdir(path) else "does not exist"
        raise HyperparameterError(f"--conf-file {path} {what}")
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise HyperparameterError(f"--conf-file {path} cannot be read: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise HyperparameterError(f"--conf-file {path} must map env ids to hyperparameter entries "
                                  f"(like rl/hyperparams/ppo.yml), got {type(data).__name__}")
    key = env_id if env_id in data else "default"
    if key not in data:
        raise HyperparameterError(f"--conf-file {path} has no entry for {env_id!r} and no 'default' entry "
                                  f"(entries: {', '.join(map(str, data)) or 'none'})")
    entry = data[key]
    if not isinstance(entry, dict):
        raise HyperparameterError(f"--conf-file {path}: the entry {key!r} must be a mapping of hyperparameters, "
                                  f"got {type(entry).__name__}")
    return dict(entry), f"{key} from {path}"
