"""Classifiers: logistic regression, SVMs, k-NN and naive Bayes."""
from .knn import KNeighborsClassifier
from .linear_svc import LinearSVC
from .logistic_regression import LogisticRegression
from .naive_bayes import GaussianNB, MultinomialNB
from .svc import SVC

__all__ = ["GaussianNB", "KNeighborsClassifier", "LinearSVC",
           "LogisticRegression", "MultinomialNB", "SVC"]
