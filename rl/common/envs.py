"""SB3's `stable_baselines3.common.envs`: the test envs SB3's docs use, from the `envs` package."""
from envs.bit_flipping import BitFlippingEnv
from envs.simple_multi_obs import SimpleMultiObsEnv

__all__ = ["BitFlippingEnv", "SimpleMultiObsEnv"]
