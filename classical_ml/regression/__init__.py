"""Linear regressors: ordinary least squares and ridge."""
from .linear_regression import LinearRegression
from .ridge import Ridge

__all__ = ["LinearRegression", "Ridge"]
