"""Estimator base classes, input validation and the errors they raise.

Mirrors the small part of scikit-learn's ``sklearn.base`` and
``sklearn.utils.validation`` that the estimators here need, so that an
estimator from this package can be swapped for its scikit-learn namesake.
"""
from __future__ import annotations

import inspect
import numbers

import numpy as np


class NotFittedError(ValueError, AttributeError):
    """Raised when ``predict``/``transform`` is called before ``fit``."""


class BaseEstimator:
    """``get_params``/``set_params``/``repr`` from the ``__init__`` signature."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind != p.VAR_KEYWORD]

    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        valid = set(self._param_names())
        for key, value in params.items():
            if key not in valid:
                raise ValueError(
                    f"Invalid parameter {key!r} for {type(self).__name__}; "
                    f"valid parameters are {sorted(valid)}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        parts = []
        for name, p in sig.parameters.items():
            if name == "self" or not hasattr(self, name):
                continue
            value = getattr(self, name)
            default = p.default
            same = default is not inspect.Parameter.empty and (
                value is default or (type(value) is type(default) and
                                     _safe_eq(value, default)))
            if not same:
                parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    # ----------------------------------------------------------- validation
    def _check_n_features(self, X: np.ndarray, reset: bool) -> None:
        if reset:
            self.n_features_in_ = X.shape[1]
            return
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input.")

    def _validate_X(self, X, reset: bool = False, **kw) -> np.ndarray:
        """Check X (2-D, finite, numeric) and, unless ``reset``, its width."""
        if not reset:
            check_is_fitted(self)
        X = check_array(X, estimator=self, **kw)
        self._check_n_features(X, reset)
        return X


def _safe_eq(a, b) -> bool:
    try:
        return bool(a == b)
    except (ValueError, TypeError):
        return False


class ClassifierMixin:
    """Adds ``score``: mean accuracy of ``predict`` on (X, y)."""

    _estimator_type = "classifier"

    def score(self, X, y) -> float:
        y = np.asarray(y)
        return float(np.mean(self.predict(X) == y))


class RegressorMixin:
    """Adds ``score``: coefficient of determination R^2 of ``predict``."""

    _estimator_type = "regressor"

    def score(self, X, y) -> float:
        return r2_score(np.asarray(y, dtype=np.float64), self.predict(X))


class TransformerMixin:
    """Adds ``fit_transform`` as ``fit(X).transform(X)``."""

    def fit_transform(self, X, y=None):
        return self.fit(X, y).transform(X)


class ClusterMixin:
    """Adds ``fit_predict`` returning ``labels_``."""

    _estimator_type = "clusterer"

    def fit_predict(self, X, y=None) -> np.ndarray:
        return self.fit(X).labels_


# ------------------------------------------------------------------ helpers
def r2_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """R^2 averaged uniformly over outputs; y arrays (n,) or (n, k)."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.ndim == 1:
        y_true, y_pred = y_true[:, None], y_pred.reshape(len(y_pred), -1)
    ss_res = ((y_true - y_pred) ** 2).sum(axis=0)
    ss_tot = ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
    ok = ss_tot > 0
    r2 = np.where(ok, 1.0 - ss_res / np.where(ok, ss_tot, 1.0),
                  np.where(ss_res == 0, 1.0, 0.0))
    return float(r2.mean())


def check_is_fitted(estimator, attribute: str | None = None) -> None:
    """Raise ``NotFittedError`` unless the estimator has fitted attributes."""
    if attribute is not None:
        fitted = hasattr(estimator, attribute)
    else:
        fitted = any(k.endswith("_") and not k.startswith("__")
                     for k in vars(estimator))
    if not fitted:
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. "
            "Call 'fit' with appropriate arguments before using this "
            "estimator.")


def check_array(X, estimator=None, ensure_2d: bool = True,
                allow_nd: bool = False, min_samples: int = 1,
                dtype=np.float64, non_negative: bool = False) -> np.ndarray:
    """Return X as a float array, raising ``ValueError`` on bad input."""
    who = f" for {type(estimator).__name__}" if estimator is not None else ""
    try:
        X = np.asarray(X, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"X{who} could not be converted to a numeric "
                         f"array: {exc}") from exc
    if ensure_2d:
        if X.ndim == 1 or X.ndim == 0:
            raise ValueError(
                f"Expected a 2D array{who}, got a {X.ndim}D array instead. "
                "Reshape your data with X.reshape(-1, 1) for a single "
                "feature or X.reshape(1, -1) for a single sample.")
        if X.ndim > 2 and not allow_nd:
            raise ValueError(f"Expected a 2D array{who}, got {X.ndim}D.")
    if X.shape[0] < min_samples:
        raise ValueError(f"Found array with {X.shape[0]} sample(s) (shape="
                         f"{X.shape}) while a minimum of {min_samples} is "
                         f"required{who}.")
    if X.ndim == 2 and X.shape[1] < 1:
        raise ValueError(f"Found array with 0 features (shape={X.shape})"
                         f"{who}.")
    if not np.isfinite(X).all():
        kind = "NaN" if np.isnan(X).any() else "infinity"
        raise ValueError(f"Input X contains {kind}{who}; remove or impute "
                         "non-finite values before calling this estimator.")
    if non_negative and (X < 0).any():
        raise ValueError(f"Negative values in data passed to X{who}; it "
                         "expects non-negative counts or frequencies.")
    return X


def check_X_y(X, y, estimator=None, y_numeric: bool = False,
              multi_output: bool = False, **kw):
    """Validate X as in ``check_array`` and y as a 1-D array of equal length."""
    X = check_array(X, estimator=estimator, **kw)
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be "
                         "passed, but the target y is None.")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1 and not multi_output:
        y = y.ravel()
    if y.ndim != 1 and not (multi_output and y.ndim == 2):
        raise ValueError(f"y should be a 1d array, got an array of shape "
                         f"{y.shape} instead.")
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: "
            f"X has {X.shape[0]} rows but y has {y.shape[0]} entries.")
    if y_numeric or y.dtype.kind in "fc":
        try:
            y_f = y.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"y could not be converted to float: {exc}") \
                from exc
        if not np.isfinite(y_f).all():
            raise ValueError("Input y contains NaN or infinity.")
        if y_numeric:
            y = y_f
    return X, y


def check_classification_targets(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (classes_, encoded y in 0..k-1); reject continuous targets."""
    if y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
        raise ValueError("Unknown label type: continuous. Classifiers need "
                         "discrete class labels (ints or strings).")
    classes, y_enc = np.unique(y, return_inverse=True)
    return classes, y_enc.ravel()


def check_random_state(seed) -> np.random.Generator:
    """None/int/Generator/RandomState -> ``np.random.Generator``."""
    if seed is None or isinstance(seed, (numbers.Integral, np.integer)):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**31 - 1))
    raise ValueError(f"{seed!r} cannot be used to seed a random generator.")


def check_sample_weight(sample_weight, n_samples: int) -> np.ndarray:
    """None -> ones; otherwise a non-negative finite (n_samples,) array."""
    if sample_weight is None:
        return np.ones(n_samples)
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 0:
        return np.full(n_samples, float(w))
    if w.shape != (n_samples,):
        raise ValueError(f"sample_weight.shape == {w.shape}, expected "
                         f"({n_samples},).")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("sample_weight must be finite and non-negative.")
    return w


def check_positive(value, name: str, strict: bool = True,
                   integer: bool = False) -> None:
    """Raise ``ValueError`` unless a hyperparameter is (strictly) positive."""
    kinds = (numbers.Integral,) if integer else (numbers.Real,)
    ok = isinstance(value, kinds) and not isinstance(value, bool)
    if ok:
        ok = value > 0 if strict else value >= 0
    if not ok:
        what = "int" if integer else "float"
        bound = "> 0" if strict else ">= 0"
        raise ValueError(f"{name} must be a{'n' if integer else ''} {what} "
                         f"{bound}, got {value!r}.")

