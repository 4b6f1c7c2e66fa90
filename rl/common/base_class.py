"""SB3's `stable_baselines3.common.base_class`: re-exports `BaseAlgorithm`."""
from ..core.base_algorithm import BaseAlgorithm

__all__ = ["BaseAlgorithm"]
