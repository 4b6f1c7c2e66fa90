"""CIFAR-10 from the local *binary version* files (never downloads, never unpickles).

The archive cifar-10-binary.tar.gz unpacks to a folder ``cifar-10-batches-bin`` holding
data_batch_1.bin .. data_batch_5.bin (10,000 images each), test_batch.bin (10,000) and batches.meta.txt
(the ten class names, one a line). Each record is 3073 bytes: 1 label byte (0..9), then 3072 pixel bytes,
the red, green and blue 32x32 planes one after the other, each row-major, so a record's pixels reshape
straight to (3, 32, 32), our NCHW layout.
"""
from __future__ import annotations

import os

import numpy as np

__all__ = ["load_cifar10", "read_cifar10_batch", "CIFAR10_ENV", "CIFAR10_CLASSES", "CIFAR10_TRAIN_FILES",
           "CIFAR10_TEST_FILE"]

CIFAR10_ENV = "CORENN_CIFAR10"
CIFAR10_FOLDER = "cifar-10-batches-bin"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch.bin"
_RECORD = 1 + 3 * 32 * 32


def read_cifar10_batch(path) -> tuple[np.ndarray, np.ndarray]:
    """One binary batch file -> (images uint8 (N, 3, 32, 32), labels int64 (N,)).

    Raises ValueError naming the file when its size is not a whole number of 3073-byte records or a
    label byte is above 9.
    """
    path = os.fspath(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % _RECORD:
        raise ValueError(f"{path}: {raw.size} bytes is not a whole number of CIFAR-10 records "
                         f"({_RECORD} bytes each: 1 label byte + 3072 pixel bytes); is this the binary version?")
    records = raw.reshape(-1, _RECORD)
    labels = records[:, 0].astype(np.int64)
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        raise ValueError(f"{path}: record {int(bad[0])} has label byte {int(labels[bad[0]])}; CIFAR-10 labels "
                         f"are 0..9 (a CIFAR-100 file has 2 label bytes per record)")
    images = np.ascontiguousarray(records[:, 1:]).reshape(-1, 3, 32, 32)
    return images, labels


def _candidate_dirs(root) -> list[str]:
    bases = [os.fspath(root)] if root is not None else []
    if os.environ.get(CIFAR10_ENV):
        bases.append(os.environ[CIFAR10_ENV])
    dirs = []
    for base in bases:
        base = os.path.expanduser(base)
        dirs += [base, os.path.join(base, CIFAR10_FOLDER)]
    return list(dict.fromkeys(dirs))


def load_cifar10(root=None, normalize: bool = False):
    """Load CIFAR-10 -> (x_train, y_train, x_test, y_test), like ``load_fashion_mnist``.

    root: the ``cifar-10-batches-bin`` folder or its parent; without it, $CORENN_CIFAR10 (same rule).
    Images: uint8 (N, 3, 32, 32), or float32 in [0, 1] with normalize=True. Labels: int64 (N,) in 0..9
    (names in CIFAR10_CLASSES). N is 50000 for train and 10000 for test with the real files.
    """
    needed = CIFAR10_TRAIN_FILES + (CIFAR10_TEST_FILE,)
    dirs = _candidate_dirs(root)
    if not dirs:
        raise FileNotFoundError(f"CIFAR-10: no folder given; pass root=/path/to/{CIFAR10_FOLDER} (or its parent) "
                                f"or set {CIFAR10_ENV}. Get the binary version, cifar-10-binary.tar.gz, from "
                                f"the CIFAR-10 page and unpack it.")
    # the first folder holding any CIFAR-10 file is the one meant; a missing file there is named
    for directory in dirs:
        present = [name for name in needed if os.path.isfile(os.path.join(directory, name))]
        if not present:
            continue
        missing = [name for name in needed if name not in present]
        if missing:
            raise FileNotFoundError(f"CIFAR-10: {directory} is missing {', '.join(missing)} "
                                    f"(expected {', '.join(needed)})")
        train = [read_cifar10_batch(os.path.join(directory, name)) for name in CIFAR10_TRAIN_FILES]
        x_train = np.concatenate([x for x, _ in train])
        y_train = np.concatenate([y for _, y in train])
        x_test, y_test = read_cifar10_batch(os.path.join(directory, CIFAR10_TEST_FILE))
        if normalize:
            x_train = x_train.astype(np.float32) * np.float32(1.0 / 255.0)
            x_test = x_test.astype(np.float32) * np.float32(1.0 / 255.0)
        return x_train, y_train, x_test, y_test
    looked = "\n".join(f"  - {d}" for d in dirs)
    raise FileNotFoundError(f"CIFAR-10 not found: no {needed[0]} .. {CIFAR10_TEST_FILE} in:\n{looked}\n"
                            f"Unpack cifar-10-binary.tar.gz (the binary version, not the Python pickles) and "
                            f"pass root= or set {CIFAR10_ENV}.")
