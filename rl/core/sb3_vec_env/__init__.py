"""Stable-Baselines3's VecEnv API (`rl.common.vec_env` re-exports it): SB3-style vectorised envs and
their wrappers, plus the adapters that let the agents train on them (see `adapters.py`)."""
from .adapters import GymVectorVecEnv, VecEnvAsGymVector
from .base import (
    VecEnv,
    VecEnvWrapper,
    is_sb3_vec_env,
    is_vecenv_wrapped,
    sync_envs_normalization,
    tile_images,
    unwrap_vec_normalize,
    unwrap_vec_wrapper,
)
from .check_nan import VecCheckNan
from .dummy import DummyVecEnv
from .env_util import make_atari_env, make_vec_env
from .extract_dict_obs import VecExtractDictObs
from .frame_stack import StackedObservations, VecFrameStack
from .monitor import VecMonitor
from .normalize import VecNormalize
from .subproc import CloudpickleWrapper, SubprocVecEnv
from .transpose import VecTransposeImage
from .video import VecVideoRecorder

__all__ = ["VecEnv", "VecEnvWrapper", "DummyVecEnv", "SubprocVecEnv", "VecNormalize", "VecFrameStack",
           "VecTransposeImage", "VecVideoRecorder", "VecMonitor", "VecCheckNan", "unwrap_vec_normalize",
           "unwrap_vec_wrapper", "is_vecenv_wrapped", "sync_envs_normalization", "tile_images", "is_sb3_vec_env",
           "GymVectorVecEnv", "VecEnvAsGymVector", "make_vec_env", "make_atari_env", "VecExtractDictObs",
           "StackedObservations", "CloudpickleWrapper"]
