"""Model zoo built from corenn.nn."""
from .mlp import MLP

__all__ = ["MLP"]
