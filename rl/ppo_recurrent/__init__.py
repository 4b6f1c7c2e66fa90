"""sb3-contrib's `sb3_contrib.ppo_recurrent`: `RecurrentPPO` and its policy aliases, re-exported from `rl.recurrent`."""
from ..recurrent import CnnLstmPolicy, MlpLstmPolicy, MultiInputLstmPolicy, RecurrentPPO

__all__ = ["RecurrentPPO", "MlpLstmPolicy", "CnnLstmPolicy", "MultiInputLstmPolicy"]
