"""Model-based RL: MBPO (`mbpo.py`) on a probabilistic dynamics ensemble (`ensemble.py`), rollouts in the
learned model (`model_env.py`) and the known termination functions they need (`termination.py`)."""

from .ensemble import FitResult, ProbabilisticEnsemble, fit_ensemble
from .mbpo import MBPO, MBPOPolicy
from .model_env import ModelEnv, ModelReplayBuffer
from .termination import TERMINATION_FNS, termination_fn_for

__all__ = ["MBPO", "MBPOPolicy", "ProbabilisticEnsemble", "fit_ensemble", "FitResult", "ModelEnv",
           "ModelReplayBuffer", "TERMINATION_FNS", "termination_fn_for"]
