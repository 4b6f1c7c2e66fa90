"""The constructor is the documentation: each algorithm's signature lists every argument it takes
(no **kwargs), every hyperparameter saved in checkpoints is one of them, and SB3 arguments we do
not implement are listed too but refuse non-default values."""
import inspect

import gymnasium as gym
import pytest

import rl
from rl.core.base_algorithm import BaseAlgorithm
from rl.core.noise import NormalActionNoise
from rl.core.off_policy_algorithm import OffPolicyAlgorithm
from rl.core.on_policy_algorithm import OnPolicyAlgorithm

POLICY_ALGOS = sorted({cls for cls in rl.ALGOS.values() if "policy" in inspect.signature(cls).parameters},
                      key=lambda cls: cls.__name__)
COMMON = {"policy", "env", "learning_rate", "policy_kwargs", "stats_window_size", "tensorboard_log", "verbose", "seed",
          "device", "normalize", "n_envs", "blas_num_threads", "_init_setup_model"}
OFFLINE = {"BC"}  # learns from a dataset without an env of its own: no normalize or n_envs
VAR = (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)


def _env_for(cls):
    """Pendulum-v1 for Box-only algorithms, CartPole-v1 for the others."""
    return "Pendulum-v1" if cls.supported_action_spaces == (gym.spaces.Box,) else "CartPole-v1"


def test_every_algorithm_with_a_policy_is_checked():
    assert {cls.__name__ for cls in POLICY_ALGOS} == {"PPO", "A2C", "REINFORCE", "DQN", "DoubleDQN", "DDPG", "TD3",
                                                      "SAC", "RecurrentPPO", "BC", "CQL", "GAIL", "MBPO"}


@pytest.mark.parametrize("cls", POLICY_ALGOS + [BaseAlgorithm, OnPolicyAlgorithm, OffPolicyAlgorithm],
                         ids=lambda cls: cls.__name__)
def test_signature_has_no_catch_all(cls):
    params = inspect.signature(cls).parameters.values()
    assert not [p.name for p in params if p.kind in VAR]


@pytest.mark.parametrize("cls", POLICY_ALGOS, ids=lambda cls: cls.__name__)
def test_hyperparameters_are_constructor_arguments(cls):
    params = set(inspect.signature(cls).parameters)
    assert set(cls._hparam_names) <= params
    assert COMMON - ({"normalize", "n_envs"} if cls.__name__ in OFFLINE else set()) <= params
    policy = "MlpPolicy" if "MlpPolicy" in cls.policy_aliases else next(iter(cls.policy_aliases))  # MlpLstmPolicy
    model = cls(policy, _env_for(cls), seed=0, _init_setup_model=False)
    assert set(model._hyperparameters()) <= params  # what BaseAlgorithm.load passes back


@pytest.mark.parametrize("name", ["PPO", "A2C", "DQN", "DDPG", "TD3", "SAC"])
def test_sb3_arguments_are_all_accepted(name):
    sb3 = pytest.importorskip("stable_baselines3")
    theirs = set(inspect.signature(getattr(sb3, name)).parameters)
    assert theirs <= set(inspect.signature(getattr(rl, name)).parameters)


@pytest.mark.parametrize("cls, env, kwargs, match", [
    (rl.PPO, "CartPole-v1", dict(use_sde=True), "gSDE.*continuous"),  # gSDE needs Box actions
    (rl.A2C, "CartPole-v1", dict(use_sde=True), "gSDE.*continuous"),
    (rl.PPO, "CartPole-v1", dict(rollout_buffer_class=object), "rollout buffer"),
    (rl.A2C, "CartPole-v1", dict(rollout_buffer_kwargs=dict(x=1)), "rollout buffer"),
    (rl.SAC, "Pendulum-v1", dict(use_sde=True), "gSDE"),
    (rl.SAC, "Pendulum-v1", dict(use_sde_at_warmup=True), "gSDE"),
    (rl.TD3, "Pendulum-v1", dict(n_steps=3), "n-step"),
    (rl.DQN, "CartPole-v1", dict(n_steps=2), "n-step"),
    (rl.DQN, "CartPole-v1", dict(action_noise=NormalActionNoise([0.0], [0.1])), "epsilon"),
])
def test_unimplemented_sb3_arguments_refuse_non_defaults(cls, env, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls("MlpPolicy", env, **kwargs)


def test_ddpg_lists_only_its_own_arguments():
    params = set(inspect.signature(rl.DDPG).parameters)
    assert not params & {"policy_delay", "target_policy_noise", "target_noise_clip"}
    model = rl.DDPG("MlpPolicy", "Pendulum-v1", seed=0)
    assert (model.policy_delay, model.target_policy_noise, model.policy.n_critics) == (1, 0.0, 1)
