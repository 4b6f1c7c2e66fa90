"""Datasets read from local files (the IDX format, Fashion-MNIST, MNIST, CIFAR-10's binary version),
synthetic segmentation shapes, character-level text (``CharTokenizer``, ``CharTextDataset``), and batch
image augmentation (``corenn.datasets.transforms``)."""

from . import transforms
from .cifar10 import CIFAR10_CLASSES, load_cifar10, read_cifar10_batch
from .fashion_mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
from .idx import IDXFormatError, read_idx, write_idx
from .synthetic_shapes import SHAPE_CLASSES, make_shapes
from .text import CharTextDataset, CharTokenizer

__all__ = ["read_idx", "write_idx", "IDXFormatError", "load_fashion_mnist", "load_mnist",
           "FASHION_MNIST_CLASSES", "load_cifar10", "read_cifar10_batch", "CIFAR10_CLASSES",
           "make_shapes", "SHAPE_CLASSES", "transforms", "CharTokenizer", "CharTextDataset"]
