"""What every algorithm family shares: the algorithm base classes, observation preprocessing,
network builders, distributions, rollout and replay buffers, vector envs, normalisation,
schedules, noise, checkpoints, logger, callbacks and evaluation; feature extractors (NatureCNN) and image
preprocessing."""
from .base_algorithm import BaseAlgorithm
from .checkpoint import CheckpointError, load_agent, save_agent
from .dict_replay_buffer import DictReplayBuffer
from .distributions import CategoricalDistribution, DiagGaussianDistribution, make_proba_distribution
from .feature_extractors import BaseFeaturesExtractor, CombinedExtractor, FlattenExtractor, NatureCNN
from .networks import FusedLinear, FusedMLP, create_mlp, get_activation
from .normalization import ObsNormalizer, RunningMeanStd
from .off_policy_algorithm import OffPolicyAlgorithm
from .on_policy_algorithm import OnPolicyAlgorithm
from .policies import ObsPreprocessor, get_optimizer_class
from .preprocessing import is_image_space, preprocess_obs
from .replay_buffer import ReplayBuffer, resolve_replay_buffer_class
from .rollout_buffer import RolloutBuffer
from .schedules import get_schedule_fn, linear_schedule
from .vec_env import VecTransposeImage, make_vec_env, wrap_env

__all__ = ["BaseAlgorithm", "OnPolicyAlgorithm", "OffPolicyAlgorithm", "CheckpointError", "save_agent", "load_agent",
           "CategoricalDistribution", "DiagGaussianDistribution", "make_proba_distribution", "create_mlp",
           "get_activation", "FusedLinear", "FusedMLP", "ObsNormalizer", "RunningMeanStd", "ObsPreprocessor",
           "get_optimizer_class", "RolloutBuffer", "ReplayBuffer", "DictReplayBuffer", "resolve_replay_buffer_class",
           "get_schedule_fn", "linear_schedule", "make_vec_env", "wrap_env", "VecTransposeImage",
           "BaseFeaturesExtractor", "FlattenExtractor", "NatureCNN", "CombinedExtractor", "is_image_space",
           "preprocess_obs"]
