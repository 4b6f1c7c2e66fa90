"""What `python -m rl` checks before it creates anything: user mistakes become one-line errors.

Every user error ends as `error: ...` on stderr with exit status 2 (`CLIError`, argparse's errors
through `ArgumentParser`), and nothing is created: argument ranges are checked by the parser, output
folders before training, and the agent is built (or loaded with -i) before its run folder exists.
`build_agent` tells a value the user gave from a genuine bug: when the build fails, it rebuilds
without the user's values, one at a time, and names the one that breaks it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

import gymnasium as gym

from corenn.serialization import CheckpointError
from rl.hyperparams import HyperparameterError, parse_cli_value

__all__ = ["CLIError", "ArgumentParser", "int_arg", "SEED", "check_writable_folder", "check_output_file",
           "parse_env_kwargs", "check_reserved_params", "load_agent_file", "build_agent", "make_env_checked",
           "check_agent_fits_env", "check_param_ranges", "RESERVED_PARAMS", "ensure_registered", "get_algos",
           "get_algo_class"]

# constructor arguments that the CLI sets from its own flags
RESERVED_PARAMS = {"env": "--env", "seed": "--seed", "verbose": "-v", "tensorboard_log": "-tb"}


class CLIError(Exception):
    """A user-facing error: printed as 'error: ...' with exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors: 'error: ... (see PROG --help)', exit status 2."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _integer(text: str) -> int:
    """'64', '1_000' or '1e6' -> int; ArgumentTypeError for '2.5', 'abc'."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}")
    return int(value)


def int_arg(low: int, high: int | None = None, also: tuple = (), note: str = "") -> Callable[[str], int]:
    """An argparse type: an integer in [low, high] (or one of `also`)."""

    def parse(text: str) -> int:
        value = _integer(text)
        if value in also or (value >= low and (high is None or value <= high)):
            return value
        span = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise argparse.ArgumentTypeError(f"must be {span}{note}, got {value}")

    parse.__name__ = "integer"
    return parse


SEED = int_arg(0, 2**32 - 1)


def ensure_registered(env_id: str) -> None:
    """Import this project's `envs` package when the id is not a Gymnasium one."""
    if env_id not in gym.registry:
        try:
            import envs  # noqa: F401  (registers corenn/... environments)
        except ImportError:
            pass
    if env_id not in gym.registry:
        prefix = env_id.split("-")[0].lower()
        close = [k for k in gym.registry if prefix and k.lower().startswith(prefix)][:5]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise CLIError(f"unknown environment {env_id!r}{hint}")


def get_algos(algos=None) -> dict:
    """`algos` when given (tests pass their own), else rl.ALGOS."""
    if algos is not None:
        return algos
    from rl import ALGOS

    return ALGOS


def get_algo_class(name: str, algos: dict):
    """algos[name], or a CLIError listing the available names."""
    if name not in algos:
        raise CLIError(f"unknown algorithm {name!r}; available: {', '.join(sorted(algos))}")
    return algos[name]


def check_writable_folder(path: str, flag: str) -> None:
    """CLIError unless `path` is a folder we can write in, or one we can create."""
    probe = os.path.abspath(path)
    while not os.path.lexists(probe) and os.path.dirname(probe) != probe:
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise CLIError(f"{flag} {path}: {probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise CLIError(f"{flag} {path}: cannot write in {probe} (permission denied)")


def check_output_file(path: str, flag: str) -> None:
    """CLIError unless the file `path` can be written (its folder exists or can be created)."""
    if os.path.isdir(path):
        raise CLIError(f"{flag} {path} is a folder; give a file name such as {os.path.join(path, 'out.gif')}")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        check_writable_folder(folder, flag)
    except CLIError as exc:
        raise CLIError(str(exc).replace(f"{flag} {folder}:", f"{flag} {path}:", 1)) from None


def parse_env_kwargs(items) -> dict:
    """--env-kwargs ['max_episode_steps:100', "camera_name:'track'"] -> dict."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition(":")
        if not sep or not key.strip():
            raise CLIError(f"--env-kwargs expects key:value pairs, got {item!r}")
        out[key.strip()] = parse_cli_value(value.strip())
    return out


def check_reserved_params(overrides: dict) -> None:
    """-params may not set what a flag of the CLI sets (--seed, -v, -tb, --env)."""
    for key, flag in RESERVED_PARAMS.items():
        if key in overrides:
            raise HyperparameterError(f"-params {key}: set it with {flag} instead")


def load_agent_file(load: Callable, path: str = "", prefix: str = ""):
    """`load()`, with a missing, unreadable, corrupted or mismatched agent file as a CLIError."""
    try:
        return load()
    except (CheckpointError, OSError) as exc:  # CheckpointError: truncated, other algorithm, other spaces
        text = _message(exc)
        text = text if path in text else f"{path}: {text}"
        raise CLIError(f"{prefix}: {text}" if prefix else text) from None


def make_env_checked(make: Callable, env_id: str, env_kwargs: dict | None = None):
    """`make()` with an env that cannot be created (missing dependency, bad --env-kwargs) as a CLIError."""
    try:
        return make()
    except gym.error.Error as exc:
        raise CLIError(f"cannot create {env_id}: {exc}") from None
    except (TypeError, ValueError) as exc:
        if env_kwargs:
            raise CLIError(f"--env-kwargs do not fit {env_id}: {exc}") from None
        raise


def check_agent_fits_env(model, observation_space, action_space, env_id: str) -> None:
    """CLIError when a loaded agent was made for other observation or action spaces than the env's."""
    from rl.core.checkpoint import check_space_matches, space_to_json

    for what, mine, env_space in (("observation", getattr(model, "observation_space", None), observation_space),
                                  ("action", getattr(model, "action_space", None), action_space)):
        if isinstance(mine, gym.Space):
            try:
                check_space_matches(space_to_json(mine), env_space, what)
            except (TypeError, ValueError) as exc:  # CheckpointError is a ValueError
                raise CLIError(f"the agent does not fit {env_id}: {exc}") from None


def _message(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def build_agent(make: Callable, resolve_with: Callable, overrides: dict, raw: dict, n_envs: int | None,
                label: str):
    """(agent, env) = make(hp) for hp = resolve_with(overrides, n_envs), before any folder exists.

    make(hp) returns (agent, env) and closes its env when it fails. A ValueError or TypeError
    that a user value causes becomes a CLIError naming it: `raw[key]` for a -params key, --n-envs,
    or the env itself (the algorithm cannot be built for it with its defaults). A failure that the
    YAML entry alone causes propagates (a bug in the hyperparameter files).
    """
    try:
        return make(resolve_with(overrides, n_envs))
    except (ValueError, TypeError) as exc:
        error = exc
    candidates = [(f"-params {raw.get(k, k)}", {k: v}, None) for k, v in overrides.items()]
    if n_envs is not None:
        candidates.append((f"--n-envs {n_envs}", {}, n_envs))
    base = resolve_with({}, None)
    if _fails(make, base) is not None:
        defaults_error = _fails(make, base._replace(kwargs={}, n_envs=1))
        if defaults_error is not None:
            raise CLIError(f"{label}: {_message(defaults_error)}") from None
        raise error
    for name, single, envs in candidates:
        failure = _fails(make, resolve_with(single, envs))
        if failure is not None:
            raise CLIError(f"{_message(failure)} (from {name})") from None
    if not candidates:
        raise error
    names = ", ".join(name for name, _, _ in candidates)
    raise CLIError(f"{_message(error)} (from {names} together)") from None


def check_param_ranges(algo_cls, kwargs: dict, overrides: dict, raw: dict) -> None:
    """The -params values against rl.core.validation's ranges, when that module knows the algorithm."""
    try:
        from rl.core import validation
    except ImportError:
        return
    check = getattr(validation, "check_hyperparameters", None)
    accepted = getattr(validation, "ALGORITHM_PARAMS", {}).get(algo_cls.__name__, ())
    for key in overrides:
        if check is not None and key in kwargs and key in accepted:
            try:
                check(algo_cls.__name__, {key: kwargs[key]})
            except ValueError as exc:
                raise CLIError(f"{_message(exc)} (from -params {raw.get(key, key)})") from None


def _fails(make: Callable, hp) -> BaseException | None:
    """The ValueError/TypeError that make(hp) raises, else None (the probe agent's env is closed)."""
    try:
        _, env = make(hp)
    except (ValueError, TypeError) as exc:
        return exc
    env.close()
    return None
