"""Shared RL machinery: policies, distributions, buffers, vector envs, normalisation, schedules,
checkpoints, logger, callbacks and evaluation."""
from .base_algorithm import BaseAlgorithm
from .checkpoint import CheckpointError, load_agent, save_agent
from .distributions import CategoricalDistribution, DiagGaussianDistribution, make_proba_distribution
from .normalization import ObsNormalizer, RunningMeanStd
from .on_policy_algorithm import OnPolicyAlgorithm
from .policies import ActorCriticPolicy, MlpPolicy, MultiInputPolicy
from .rollout_buffer import RolloutBuffer
from .schedules import get_schedule_fn, linear_schedule
from .value_functions import DiscreteQNetwork, QFunction, ValueFunction, create_mlp
from .vec_env import make_vec_env, wrap_env

__all__ = ["BaseAlgorithm", "OnPolicyAlgorithm", "CheckpointError", "save_agent", "load_agent",
           "CategoricalDistribution", "DiagGaussianDistribution", "make_proba_distribution", "ObsNormalizer",
           "RunningMeanStd", "ActorCriticPolicy", "MlpPolicy", "MultiInputPolicy", "RolloutBuffer",
           "get_schedule_fn", "linear_schedule", "ValueFunction", "QFunction", "DiscreteQNetwork", "create_mlp",
           "make_vec_env", "wrap_env"]
