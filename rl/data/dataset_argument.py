"""The one conversion of a `dataset=` / `demonstrations=` argument (BC, CQL, GAIL) to a FlatDataset."""

from __future__ import annotations

import os

from .flat_view import FlatDataset, flat_view
from .minari_format import OfflineDataset, load_dataset

__all__ = ["as_flat_dataset"]


def as_flat_dataset(dataset) -> FlatDataset | None:
    """A dataset id or folder, an `OfflineDataset` or a `FlatDataset` -> a FlatDataset (None stays None).

    TypeError naming the type for anything else; an id or folder is read with `load_dataset`."""
    if dataset is None or isinstance(dataset, FlatDataset):
        return dataset
    if isinstance(dataset, OfflineDataset):
        return flat_view(dataset)
    if isinstance(dataset, (str, os.PathLike)):
        return flat_view(load_dataset(dataset))
    raise TypeError(f"dataset must be a dataset id, a folder, an OfflineDataset or a FlatDataset, "
                    f"got {type(dataset).__name__}")
