"""One step from a YAML entry to an algorithm's constructor arguments: `resolve`.

    hp = resolve("td3", "Pendulum-v1", {"learning_starts": 100})
    model = TD3(hp.policy, make_vec_env("Pendulum-v1", n_envs=hp.n_envs), **hp.kwargs).learn(hp.n_timesteps)
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import NamedTuple

import gymnasium as gym
import numpy as np

from rl.core.replay_buffer import resolve_replay_buffer_class

from .conf_file import load_conf_file
from .files import load_hyperparams
from .parsing import HyperparameterError, parse_literal, parse_params

__all__ = ["ResolvedHyperparams", "resolve", "takes_policy", "preprocess_hyperparams", "make_action_noise",
           "accepted_kwargs", "check_kwargs", "takes_gsde", "UNSUPPORTED_KEYS", "GSDE_KEYS"]

UNSUPPORTED_KEYS = ("env_wrapper", "vec_env_wrapper", "frame_stack", "callback", "use_sde",
                    "sde_sample_freq", "use_sde_at_warmup")
GSDE_KEYS = ("use_sde", "sde_sample_freq")  # supported by the on-policy algorithms that take them (gSDE)


class ResolvedHyperparams(NamedTuple):
    """Everything needed to build and train an agent from a YAML entry."""

    n_timesteps: int
    n_envs: int
    policy: str | None  # None for tabular algorithms, which take no policy
    kwargs: dict  # constructor keyword arguments, checked against the algorithm
    entry: str  # the YAML entry used: the env id, "default", or "none" when the algorithm has no file
    config: dict  # the entry with the overrides, n_timesteps, n_envs and policy (what config.yml records)


def takes_policy(algo_cls) -> bool:
    """False for the tabular algorithms (QLearning, ValueIteration), which are built from the env alone."""
    return "policy" in inspect.signature(algo_cls).parameters


def resolve(algo: str, env_id: str, overrides=None, *, algo_cls=None, n_timesteps: int | None = None,
            n_envs: int | None = None, observation_space: gym.Space | None = None,
            action_space: gym.Space | None = None, conf_file: str | None = None) -> ResolvedHyperparams:
    """The `algo` YAML entry for `env_id` (else its 'default' entry) updated with `overrides`.

    `overrides` is a dict or `-params` style ['key:value', ...]; `n_timesteps` and `n_envs`, when
    given, win over both. `algo_cls` defaults to rl.ALGOS[algo]; its YAML file is {algo}.yml, else
    {class name}.yml, else none (the algorithm's defaults, entry "none"). The env's spaces, needed
    for action noise and for MultiInputPolicy on Dict observations, are read from one gym.make(env_id)
    unless given. `conf_file`, a YAML path, replaces the algorithm's file (rl.hyperparams.conf_file).
    Raises HyperparameterError for anything the algorithm cannot take.
    """
    algo_cls = _algo_class(algo) if algo_cls is None else algo_cls
    hyperparams, entry = (_yaml_entry(algo, algo_cls, env_id) if conf_file is None
                          else load_conf_file(conf_file, env_id))
    hyperparams.update(dict(overrides) if isinstance(overrides, Mapping) else parse_params(overrides))
    tabular = not takes_policy(algo_cls)
    yaml_steps = hyperparams.pop("n_timesteps", 1e5 if tabular else 1e6)
    n_timesteps = n_timesteps if n_timesteps else _count("n_timesteps", yaml_steps)
    if tabular:
        check_kwargs(algo_cls, hyperparams)
        return ResolvedHyperparams(n_timesteps, 1, None, dict(hyperparams), entry,
                                   dict(hyperparams, n_timesteps=n_timesteps))
    yaml_envs = hyperparams.pop("n_envs", 1)
    n_envs = n_envs if n_envs else _count("n_envs", yaml_envs)
    policy = hyperparams.pop("policy", "MlpPolicy")
    if not isinstance(policy, str):
        raise HyperparameterError(f"policy must be a policy name such as 'MlpPolicy', got {policy!r}")
    check_dict_obs = entry == "default" and policy == "MlpPolicy"
    if (check_dict_obs and observation_space is None) or ("noise_type" in hyperparams and action_space is None):
        env = gym.make(env_id)
        observation_space = env.observation_space if observation_space is None else observation_space
        action_space = env.action_space if action_space is None else action_space
        env.close()
    if check_dict_obs and isinstance(observation_space, gym.spaces.Dict):
        policy = "MultiInputPolicy"
    kwargs = preprocess_hyperparams(hyperparams, action_space, algo_cls=algo_cls)
    check_kwargs(algo_cls, kwargs)
    config = dict(hyperparams, n_timesteps=n_timesteps, n_envs=n_envs, policy=policy)
    return ResolvedHyperparams(n_timesteps, n_envs, policy, kwargs, entry, config)


def _count(name: str, value) -> int:
    """A positive whole number such as 64, 1e6 or '1e6'; HyperparameterError naming `name` otherwise."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not (number.is_integer() and number >= 1):
        raise HyperparameterError(f"{name} must be a positive whole number, got {value!r}")
    return int(number)


def _algo_class(algo: str):
    import rl

    if algo not in rl.ALGOS:
        raise HyperparameterError(f"unknown algorithm {algo!r}; available: {', '.join(sorted(rl.ALGOS))}")
    return rl.ALGOS[algo]


def _yaml_entry(algo: str, algo_cls, env_id: str) -> tuple[dict, str]:
    """(entry, its name) from {algo}.yml, else {class name}.yml, else the class's rl-zoo3 file name
    (`hyperparams_file`, e.g. RecurrentPPO's ppo_lstm); ({}, "none") without a file."""
    names = (algo, algo_cls.__name__.lower(), getattr(algo_cls, "hyperparams_file", algo))
    for name in dict.fromkeys(names):
        try:
            return load_hyperparams(name, env_id)
        except FileNotFoundError:
            continue
        except KeyError as exc:
            raise HyperparameterError(str(exc).strip("'\"")) from None
    return {}, "none"


def make_action_noise(noise_type: str, noise_std: float, action_space: gym.Space | None):
    """rl-zoo3's noise_type/noise_std -> NormalActionNoise or OrnsteinUhlenbeckActionNoise."""
    from rl.core.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

    if not isinstance(action_space, gym.spaces.Box):
        raise HyperparameterError(f"noise_type needs a continuous (Box) action space, got {action_space}")
    n = int(np.prod(action_space.shape))
    mean, sigma = np.zeros(n), float(noise_std) * np.ones(n)
    if noise_type == "normal":
        return NormalActionNoise(mean=mean, sigma=sigma)
    if noise_type == "ornstein-uhlenbeck":
        return OrnsteinUhlenbeckActionNoise(mean=mean, sigma=sigma)
    raise HyperparameterError(f"unknown noise_type {noise_type!r}; use 'normal' or 'ornstein-uhlenbeck'")


def _no_names(dotted: str):
    raise ValueError(f"unexpected name {dotted!r}")


def takes_gsde(algo_cls) -> bool:
    """True for the on-policy algorithms with gSDE (PPO, A2C, RecurrentPPO, GAIL): their YAML entries may set
    use_sde and sde_sample_freq; for every other algorithm these keys are refused."""
    from rl.core.on_policy_algorithm import OnPolicyAlgorithm

    if not (isinstance(algo_cls, type) and issubclass(algo_cls, OnPolicyAlgorithm)):
        return False
    return set(GSDE_KEYS) <= (accepted_kwargs(algo_cls) or set())


def preprocess_hyperparams(hyperparams: dict, action_space: gym.Space | None = None, *, algo_cls=None) -> dict:
    """YAML/CLI values -> constructor kwargs (policy, n_timesteps and n_envs already removed).

    Parses policy_kwargs / replay_buffer_kwargs / normalize strings safely, turns noise_type and
    noise_std into `action_noise` (for `action_space`), looks up a replay_buffer_class name, train_freq
    list -> tuple. Schedule strings such as 'lin_0.001' are passed through (the algorithms read them).
    use_sde / sde_sample_freq pass only for an `algo_cls` with gSDE (`takes_gsde`).
    """
    kwargs = {}
    gsde = algo_cls is not None and takes_gsde(algo_cls)
    for key, value in hyperparams.items():
        if key in UNSUPPORTED_KEYS and not (gsde and key in GSDE_KEYS):
            raise HyperparameterError(f"hyperparameter {key!r} (rl-zoo3) is not supported here; remove it")
        try:
            if key in ("policy_kwargs", "replay_buffer_kwargs") and isinstance(value, str):
                value = parse_literal(value)
            elif key == "normalize" and isinstance(value, str):
                value = parse_literal(value, resolve=_no_names)
        except ValueError as exc:
            raise HyperparameterError(f"{key}: {exc}") from None
        if key == "train_freq" and isinstance(value, list):
            value = tuple(value)
        kwargs[key] = value
    noise_type = kwargs.pop("noise_type", None)
    noise_std = kwargs.pop("noise_std", 0.1)
    if noise_type is not None:
        kwargs["action_noise"] = make_action_noise(noise_type, noise_std, action_space)
    if "replay_buffer_class" in kwargs:
        try:
            kwargs["replay_buffer_class"] = resolve_replay_buffer_class(kwargs["replay_buffer_class"])
        except ValueError as exc:
            raise HyperparameterError(str(exc)) from None
    return kwargs


def accepted_kwargs(algo_cls) -> set | None:
    """The public constructor arguments of `algo_cls` (None: it takes any keyword through **kwargs)."""
    params = inspect.signature(algo_cls).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return None
    return {k for k, p in params.items() if p.kind is not p.VAR_POSITIONAL and not k.startswith("_")}


def check_kwargs(algo_cls, kwargs: dict) -> None:
    """Every key must be a constructor argument of `algo_cls`; HyperparameterError naming the others."""
    accepted = accepted_kwargs(algo_cls)
    unknown = [] if accepted is None else sorted(set(kwargs) - accepted)
    if unknown:
        shown = sorted(accepted - {"policy", "env"})
        raise HyperparameterError(f"{algo_cls.__name__} does not take {', '.join(unknown)}; "
                                  f"it takes {', '.join(shown)}")
