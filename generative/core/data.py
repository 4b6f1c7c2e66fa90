"""Image datasets from a local folder for the generative models, and the pixel transform each model asks for.

``load_image_dataset(path)`` reads either the four IDX files of Fashion-MNIST / MNIST (raw or .gz) or CIFAR-10's
binary batches (the folder ``cifar-10-batches-bin`` or its parent) through ``corenn.datasets``, and returns pixels
as float32 NCHW in [0, 1]. ``to_data_range`` turns a batch into what ``train_step`` expects:

    unit       x                     in [0, 1]
    symmetric  2 x - 1               in [-1, 1]
    binary     b ~ Bernoulli(x)      in {0, 1}, a fresh draw each time (dynamic binarisation)
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np

from corenn.datasets import IDXFormatError, load_cifar10, load_mnist

from .base import DATA_RANGES

__all__ = ["ImageDataset", "DataError", "load_image_dataset", "to_data_range", "IDX_FILES", "HOW_TO_GET_DATA"]

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR_FILE = "data_batch_1.bin"
HOW_TO_GET_DATA = ("Fashion-MNIST: `apt-get install -y dataset-fashion-mnist` puts the four IDX files in "
                   "/usr/share/datasets/fashion-mnist (or copy train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                   "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, optionally .gz, into one folder); MNIST: the "
                   "same four file names; CIFAR-10: unpack cifar-10-binary.tar.gz (the binary version) and pass "
                   "its cifar-10-batches-bin folder.")


class DataError(ValueError):
    """A data folder that is missing, incomplete or holds malformed files; the message names the path."""


@dataclass
class ImageDataset:
    """Train and test splits: x (N, C, H, W) float32 in [0, 1], y (N,) int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    path: str
    kind: str                # "idx" (Fashion-MNIST / MNIST) or "cifar10"
    num_classes: int = 10

    @property
    def image_shape(self) -> tuple:
        return tuple(self.x_train.shape[1:])

    def fingerprint(self) -> str:
        """A short hash of the test split, to tell whether two files were made from the same data."""
        digest = hashlib.sha256()
        digest.update(str(self.x_test.shape).encode())
        digest.update(np.ascontiguousarray(self.x_test[:1000]).tobytes())
        digest.update(np.ascontiguousarray(self.y_test).tobytes())
        return digest.hexdigest()[:16]


def _idx_file(folder: str, stem: str) -> str | None:
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if os.path.isfile(os.path.join(folder, name)):
            return os.path.join(folder, name)
    return None


def _as_unit_nchw(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32) * np.float32(1.0 / 255.0)
    return x[:, None] if x.ndim == 3 else x


def load_image_dataset(path) -> ImageDataset:
    """Read the dataset in folder ``path`` (IDX files of Fashion-MNIST/MNIST, or CIFAR-10 binary batches).

    Raises DataError naming the path, what is missing or malformed, and how to get the data.
    """
    path = os.path.expanduser(os.fspath(path))
    if not os.path.isdir(path):
        what = "is a file, not a folder" if os.path.exists(path) else "does not exist"
        raise DataError(f"data path {path} {what}. {HOW_TO_GET_DATA}")
    try:
        cifar_dir = next((d for d in (path, os.path.join(path, "cifar-10-batches-bin"))
                          if os.path.isfile(os.path.join(d, CIFAR_FILE))), None)
        if cifar_dir is not None:
            x_tr, y_tr, x_te, y_te = load_cifar10(root=cifar_dir)
            kind = "cifar10"
        else:
            found = {stem: _idx_file(path, stem) for stem in IDX_FILES}
            missing = [stem for stem, f in found.items() if f is None]
            if missing:
                raise DataError(f"data path {path} has no {', '.join(missing)} (optionally .gz) and no CIFAR-10 "
                                f"{CIFAR_FILE}. {HOW_TO_GET_DATA}")
            # every file is in `path`, so load_mnist reads them there (its first place to look)
            x_tr, y_tr, x_te, y_te = load_mnist(root=path)
            kind = "idx"
    except (IDXFormatError, ValueError, FileNotFoundError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"cannot read the dataset in {path}: {exc}. {HOW_TO_GET_DATA}") from None
    if len(x_tr) == 0 or len(x_te) == 0:
        raise DataError(f"data path {path}: the train or test split is empty ({len(x_tr)} / {len(x_te)} images)")
    return ImageDataset(_as_unit_nchw(x_tr), y_tr.astype(np.int64), _as_unit_nchw(x_te), y_te.astype(np.int64),
                        path=path, kind=kind)


def to_data_range(x: np.ndarray, data_range: str, rng: np.random.Generator | None = None) -> np.ndarray:
    """[0, 1] pixels -> the model's ``data_range`` (see the module docstring); float32, same shape."""
    if data_range == "unit":
        return np.asarray(x, dtype=np.float32)
    if data_range == "symmetric":
        return (np.asarray(x, dtype=np.float32) * np.float32(2.0) - np.float32(1.0)).astype(np.float32)
    if data_range == "binary":
        if rng is None:
            raise ValueError("to_data_range: the 'binary' range draws Bernoulli pixels and needs an rng")
        return (rng.random(x.shape, dtype=np.float32) < x).astype(np.float32)
    raise ValueError(f"unknown data_range {data_range!r}; expected one of {DATA_RANGES}")
