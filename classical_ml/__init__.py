"""Classical machine learning in NumPy with scikit-learn's API shape.

Every estimator keeps hyperparameters in ``__init__``, learns in
``fit(X, y)`` and stores fitted state in attributes ending in ``_``;
class names match scikit-learn so one can be swapped for the other.
"""
from .base import NotFittedError
from .classification import SVC, GaussianNB, KNeighborsClassifier, LinearSVC, LogisticRegression, MultinomialNB
from .clustering import GaussianMixture, KMeans
from .ensemble import RandomForestClassifier, RandomForestRegressor
from .reduction import PCA, TSNE
from .regression import LinearRegression, Ridge
from .tree import DecisionTreeClassifier, DecisionTreeRegressor

__all__ = [
    "DecisionTreeClassifier", "DecisionTreeRegressor", "GaussianMixture",
    "GaussianNB", "KMeans", "KNeighborsClassifier", "LinearRegression",
    "LinearSVC", "LogisticRegression", "MultinomialNB", "NotFittedError",
    "PCA", "RandomForestClassifier", "RandomForestRegressor", "Ridge", "SVC",
    "TSNE",
]
