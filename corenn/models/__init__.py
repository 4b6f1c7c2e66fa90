"""Model zoo built from corenn.nn."""
from .mlp import MLP  # noqa: F401
