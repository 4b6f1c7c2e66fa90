"""SB3's `stable_baselines3.common.env_util`: re-exports `make_vec_env` (an SB3 VecEnv), `make_atari_env`
(raises: no Atari support), `is_wrapped` and `unwrap_wrapper`."""
from ..core.sb3_vec_env.env_util import is_wrapped, make_atari_env, make_vec_env, unwrap_wrapper

__all__ = ["make_vec_env", "make_atari_env", "is_wrapped", "unwrap_wrapper"]
