"""SB3's `stable_baselines3.common.buffers`: re-exports of rl's rollout and replay buffers. `RolloutBuffer`
also stores Dict observations, so `DictRolloutBuffer` is the same class."""
from ..core.dict_replay_buffer import DictReplayBuffer
from ..core.replay_buffer import ReplayBuffer
from ..core.rollout_buffer import RolloutBuffer

DictRolloutBuffer = RolloutBuffer

__all__ = ["ReplayBuffer", "DictReplayBuffer", "RolloutBuffer", "DictRolloutBuffer"]
