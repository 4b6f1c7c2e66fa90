"""SB3's `stable_baselines3.common.type_aliases`: the named tuples rl's buffers and loops return."""
from ..core.dict_replay_buffer import DictReplayBufferSamples
from ..core.off_policy_algorithm import RolloutReturn, TrainFreq
from ..core.replay_buffer import ReplayBufferSamples
from ..core.rollout_buffer import RolloutBufferSamples

DictRolloutBufferSamples = RolloutBufferSamples  # its observations field holds a dict for Dict spaces

__all__ = ["ReplayBufferSamples", "DictReplayBufferSamples", "RolloutBufferSamples", "DictRolloutBufferSamples",
           "RolloutReturn", "TrainFreq"]
