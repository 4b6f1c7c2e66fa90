"""Offline RL data: episodes recorded from any agent, stored in Minari's on-disk format, read back as
D4RL-style flat arrays, and D4RL's normalised score with reference returns measured here.

    from rl.data import as_flat_dataset, flat_view, load_dataset
    data = flat_view(load_dataset("corenn/cartpole/expert-v0"))   # an id under $MINARI_DATASETS_PATH, or a folder
    data = as_flat_dataset(anything_above)                         # an id, a folder, or a loaded dataset

`python -m rl collect` records datasets (`collect.py` defines the kinds); reading and writing need h5py only
(`pip install "corenn[offline]"`); minari itself is optional and reads what we write.
"""

from .collect import KINDS, agent_policy, episodes_from_replay_buffer, random_policy, run_policy
from .dataset_argument import as_flat_dataset
from .episode import DatasetError, Episode, check_episode
from .flat_view import FlatDataset, flat_view
from .minari_format import (
    MINARI_FORMAT_VERSION,
    OfflineDataset,
    datasets_root,
    load_dataset,
    resolve_data_path,
    write_dataset,
)
from .minari_spaces import deserialize_space, serialize_space
from .scores import env_normalized_score, normalized_score, reference_scores

__all__ = ["Episode", "DatasetError", "check_episode", "OfflineDataset", "load_dataset", "write_dataset",
           "datasets_root", "resolve_data_path", "MINARI_FORMAT_VERSION", "FlatDataset", "flat_view",
           "as_flat_dataset", "serialize_space", "deserialize_space", "KINDS", "run_policy", "random_policy",
           "agent_policy", "episodes_from_replay_buffer", "normalized_score", "reference_scores",
           "env_normalized_score"]
