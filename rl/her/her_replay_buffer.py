"""SB3's `stable_baselines3.her.her_replay_buffer`."""
from ..multi_goal.her import HerReplayBuffer

__all__ = ["HerReplayBuffer"]
