"""Dimensionality reduction: PCA and t-SNE."""
from .pca import PCA
from .tsne import TSNE

__all__ = ["PCA", "TSNE"]
