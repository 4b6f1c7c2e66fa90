"""Datasets read from local files: the IDX format, Fashion-MNIST and MNIST."""

from .fashion_mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
from .idx import IDXFormatError, read_idx, write_idx

__all__ = ["read_idx", "write_idx", "IDXFormatError", "load_fashion_mnist", "load_mnist",
           "FASHION_MNIST_CLASSES"]
