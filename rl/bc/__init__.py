"""Behaviour cloning from offline datasets (`rl.data`): `BC` and its `BCPolicy`."""
from .bc import BC, bc_loss
from .policies import BCPolicy, MlpPolicy

__all__ = ["BC", "BCPolicy", "MlpPolicy", "bc_loss"]
