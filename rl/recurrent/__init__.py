"""Recurrent policy-gradient agents: RecurrentPPO (sb3-contrib's `sb3_contrib.RecurrentPPO`) and its LSTM
policies (`MlpLstmPolicy`, `CnnLstmPolicy`, `MultiInputLstmPolicy`)."""
from .policies import (
    CnnLstmPolicy,
    MlpLstmPolicy,
    MultiInputLstmPolicy,
    RecurrentActorCriticCnnPolicy,
    RecurrentActorCriticPolicy,
    RecurrentMultiInputActorCriticPolicy,
    RNNStates,
)
from .ppo_recurrent import RecurrentPPO

__all__ = ["RecurrentPPO", "RNNStates", "RecurrentActorCriticPolicy", "RecurrentActorCriticCnnPolicy",
           "RecurrentMultiInputActorCriticPolicy", "MlpLstmPolicy", "CnnLstmPolicy", "MultiInputLstmPolicy"]
