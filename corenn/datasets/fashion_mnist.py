"""Loaders for Fashion-MNIST and MNIST from local IDX files (never downloads).

Both datasets use the same four file names, raw or gzipped:
train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
t10k-labels-idx1-ubyte.
"""

from __future__ import annotations

import os

import numpy as np

from .idx import IDXFormatError, read_idx

__all__ = ["load_fashion_mnist", "load_mnist", "FASHION_MNIST_ENV", "MNIST_ENV",
           "FASHION_MNIST_DEFAULT_DIR", "FASHION_MNIST_CLASSES"]

FASHION_MNIST_ENV = "CORENN_FASHION_MNIST"
MNIST_ENV = "CORENN_MNIST"
FASHION_MNIST_DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

_FILES = {
    "x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte",
}


def _find_file(directory: str, stem: str) -> str | None:
    """Path of `stem` in directory, accepting .gz and the 'train-images.idx3-ubyte' spelling."""
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def _candidate_dirs(root, env_var: str, default: str | None) -> list[str]:
    dirs = [os.fspath(root)] if root is not None else []
    if os.environ.get(env_var):
        dirs.append(os.environ[env_var])
    if default:
        dirs.append(default)
    return list(dict.fromkeys(os.path.expanduser(d) for d in dirs))


def _load(name: str, root, env_var: str, default: str | None, how_to_get: str,
          normalize: bool, flatten: bool):
    dirs = _candidate_dirs(root, env_var, default)
    for directory in dirs:
        paths = {key: _find_file(directory, stem) for key, stem in _FILES.items()}
        if all(paths.values()):
            return _read_split(paths, normalize, flatten)
    looked = "\n".join(f"  - {d}" for d in dirs) or "  (no directory given)"
    raise FileNotFoundError(
        f"{name} not found. Looked for the files {', '.join(_FILES.values())} (optionally .gz) in:\n"
        f"{looked}\n{how_to_get}"
    )


def _read_split(paths: dict, normalize: bool, flatten: bool):
    arrays = {key: read_idx(path) for key, path in paths.items()}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        xp, yp = paths[f"x_{split}"], paths[f"y_{split}"]
        if x.ndim != 3 or x.dtype != np.uint8:
            raise IDXFormatError(f"{xp}: expected uint8 images of shape (N, H, W), got {x.dtype} {x.shape}")
        if y.ndim != 1 or y.dtype != np.uint8:
            raise IDXFormatError(f"{yp}: expected uint8 labels of shape (N,), got {y.dtype} {y.shape}")
        if len(x) != len(y):
            raise IDXFormatError(f"{xp} has {len(x)} images but {yp} has {len(y)} labels")
        if y.size and y.max() > 9:
            raise IDXFormatError(f"{yp}: labels must be in 0..9, found {int(y.max())}")
    out = []
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"].astype(np.int64)
        if normalize:
            x = x.astype(np.float32) * np.float32(1.0 / 255.0)
        if flatten:
            x = x.reshape(len(x), -1)
        out += [x, y]
    return tuple(out)


def load_fashion_mnist(root=None, normalize: bool = False, flatten: bool = False):
    """Load Fashion-MNIST -> (x_train, y_train, x_test, y_test).

    Looks in `root`, then $CORENN_FASHION_MNIST, then
    /usr/share/datasets/fashion-mnist. Images: uint8 (N, 28, 28), or float32
    in [0, 1] with normalize=True, (N, 784) with flatten=True. Labels: int64
    (N,). N is 60000 for train and 10000 for test.
    """
    how = (f"Install it with `apt-get install -y dataset-fashion-mnist` (Debian; files go to "
           f"{FASHION_MNIST_DEFAULT_DIR}), or put the four files in a directory and set "
           f"{FASHION_MNIST_ENV}=/that/directory or pass root=.")
    return _load("Fashion-MNIST", root, FASHION_MNIST_ENV, FASHION_MNIST_DEFAULT_DIR, how, normalize, flatten)


def load_mnist(root=None, normalize: bool = False, flatten: bool = False):
    """Load MNIST digits -> (x_train, y_train, x_test, y_test), same format as load_fashion_mnist.

    Looks in `root`, then $CORENN_MNIST.
    """
    how = (f"Put the four MNIST files in a directory and pass root=/that/directory "
           f"or set {MNIST_ENV}=/that/directory.")
    return _load("MNIST", root, MNIST_ENV, None, how, normalize, flatten)
