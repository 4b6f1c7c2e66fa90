"""rl-zoo3-style hyperparameter files ({algo}.yml) and the one path from an entry to an agent.

    from rl.hyperparams import resolve
    hp = resolve("ppo", "CartPole-v1", ["n_steps:64"])   # n_timesteps, n_envs, policy, kwargs, entry, config

files: reading the YAML files; parsing: the safe reader of their Python-looking strings (nothing is
executed); resolution: `resolve`, which turns an entry into checked constructor arguments.
"""

from .conf_file import load_conf_file
from .files import HYPERPARAMS_DIR, available_algos, load_hyperparams, read_yaml
from .parsing import (
    ACTIVATIONS,
    OPTIMIZERS,
    HyperparameterError,
    check_schedule,
    parse_cli_value,
    parse_literal,
    parse_params,
    resolve_name,
)
from .resolution import (
    UNSUPPORTED_KEYS,
    ResolvedHyperparams,
    accepted_kwargs,
    check_kwargs,
    make_action_noise,
    preprocess_hyperparams,
    resolve,
    takes_policy,
)

__all__ = ["HYPERPARAMS_DIR", "HyperparameterError", "available_algos", "read_yaml", "load_hyperparams",
           "parse_literal", "parse_cli_value", "parse_params", "resolve_name", "check_schedule",
           "preprocess_hyperparams", "accepted_kwargs", "check_kwargs", "make_action_noise", "resolve",
           "ResolvedHyperparams", "takes_policy", "load_conf_file", "ACTIVATIONS", "OPTIMIZERS", "UNSUPPORTED_KEYS"]
