"""Clustering: k-means and Gaussian mixtures."""
from .gaussian_mixture import GaussianMixture
from .kmeans import KMeans

__all__ = ["GaussianMixture", "KMeans"]
