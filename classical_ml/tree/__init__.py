"""CART decision trees."""
from .cart import Tree
from .decision_tree import DecisionTreeClassifier, DecisionTreeRegressor

__all__ = ["DecisionTreeClassifier", "DecisionTreeRegressor", "Tree"]
