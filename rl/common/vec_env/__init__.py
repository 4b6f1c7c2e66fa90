"""SB3's `stable_baselines3.common.vec_env`: re-exports `rl.core.sb3_vec_env` (VecEnv API and wrappers)."""
from ...core.sb3_vec_env import (
    CloudpickleWrapper,
    DummyVecEnv,
    StackedObservations,
    SubprocVecEnv,
    VecCheckNan,
    VecEnv,
    VecEnvWrapper,
    VecExtractDictObs,
    VecFrameStack,
    VecMonitor,
    VecNormalize,
    VecTransposeImage,
    VecVideoRecorder,
    is_vecenv_wrapped,
    sync_envs_normalization,
    tile_images,
    unwrap_vec_normalize,
    unwrap_vec_wrapper,
)

__all__ = ["CloudpickleWrapper", "DummyVecEnv", "StackedObservations", "SubprocVecEnv", "VecCheckNan", "VecEnv",
           "VecEnvWrapper", "VecExtractDictObs", "VecFrameStack", "VecMonitor", "VecNormalize", "VecTransposeImage",
           "VecVideoRecorder", "is_vecenv_wrapped", "sync_envs_normalization", "unwrap_vec_normalize",
           "unwrap_vec_wrapper", "tile_images"]
