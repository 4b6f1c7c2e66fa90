"""Optimizer base class: parameter groups, per-parameter state, state_dict."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..tensor import Tensor

_PLAIN = (bool, int, float, str, type(None))


def _is_param(obj: Any) -> bool:
    return isinstance(getattr(obj, "data", None), np.ndarray) and not isinstance(obj, np.ndarray)


class Optimizer(ABC):
    """Base class for optimizers that update ``p.data`` in place from ``p.grad``.

    ``param_groups`` is a list of dicts holding ``"params"`` and hyperparameters;
    ``state`` maps a parameter to its dict of buffers (PyTorch's layout).
    Parameters whose ``grad`` is None are skipped.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict) -> None:
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        self._scratch = {}   # param -> work buffer (not part of the state)
        self._scratch2 = {}  # param -> buffer for a modified gradient
        if _is_param(params) or isinstance(params, (np.ndarray, dict)):
            raise TypeError("params should be an iterable of Parameters or of dicts, "
                            f"got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params")
        return "\n".join(lines) + "\n)"

    def add_param_group(self, param_group: dict) -> None:
        """Add a dict with ``"params"`` and optional hyperparameter overrides."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        params = param_group.get("params")
        if params is None:
            raise ValueError("param_group has no 'params' entry")
        if _is_param(params):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be an ordered collection, not a set")
        else:
            params = list(params)
        for p in params:
            if not _is_param(p):
                raise TypeError(f"optimizer can only optimize Parameters (objects with an "
                                f"ndarray .data), got {type(p).__name__}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter group contains the same parameter more than once")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        param_group["params"] = params
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset gradients: set them to None (default) or fill them with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` if given."""
        loss = None if closure is None else closure()
        for group in self.param_groups:
            self._update_group(group)
        return loss

    @abstractmethod
    def _update_group(self, group: dict) -> None:
        """Apply one update to the parameters of ``group`` (subclasses)."""

    # -- scratch buffers -------------------------------------------------
    def _buffer(self, p: Tensor, data: np.ndarray) -> np.ndarray:
        buf = self._scratch.get(p)
        if buf is None or buf.shape != data.shape or buf.dtype != data.dtype:
            buf = self._scratch[p] = np.empty_like(data)
        return buf

    def _grad(self, p: Tensor, data: np.ndarray, grad: np.ndarray, weight_decay: float,
              maximize: bool) -> np.ndarray:
        """The gradient to use: ``-grad`` if maximizing, plus ``weight_decay * data``."""
        if not weight_decay and not maximize:
            return grad
        buf = self._scratch2.get(p)
        if buf is None or buf.shape != data.shape or buf.dtype != data.dtype:
            buf = self._scratch2[p] = np.empty_like(data)
        if weight_decay:
            np.multiply(data, weight_decay, out=buf)
            (np.subtract if maximize else np.add)(buf, grad, out=buf)
        else:
            np.negative(grad, out=buf)
        return buf

    # -- state_dict ------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: {name: value}}, "param_groups": [{..., "params": [indices]}]}``.

        Parameters are numbered in group order; arrays are references, as in PyTorch.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                ids.append(index.setdefault(id(p), len(index)))
            packed["params"] = ids
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a dict from :meth:`state_dict` (arrays are copied and cast to each
        parameter's dtype); raises ValueError on mismatched groups, sizes or shapes."""
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("optimizer state_dict must be a dict with exactly the keys "
                             "'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, "
                             f"but the optimizer has {len(self.param_groups)}")
        id_map = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"parameter group {i} has {len(group['params'])} parameters, "
                                 f"but the loaded group has {len(saved['params'])}")
            for idx, p in zip(saved["params"], group["params"]):
                id_map[int(idx)] = p
        new_state = {}
        for key, entry in state_dict["state"].items():
            key = int(key)
            if key not in id_map:
                raise ValueError(f"loaded state refers to parameter index {key}, "
                                 f"which no parameter group lists")
            p = id_map[key]
            new_state[p] = {name: self._load_value(p, key, name, v) for name, v in entry.items()}
        self.state = new_state
        for group, saved in zip(self.param_groups, saved_groups):
            params = group["params"]
            group.clear()
            group.update((k, v) for k, v in saved.items() if k != "params")
            group["params"] = params

    @staticmethod
    def _load_value(p: Tensor, index: int, name: str, value: Any) -> Any:
        if name == "step":
            return int(float(np.asarray(value)))
        if isinstance(value, _PLAIN):
            return value
        arr = np.array(getattr(value, "data", value) if _is_param(value) else value,
                       dtype=p.data.dtype)
        if arr.shape != p.data.shape:
            raise ValueError(f"optimizer state '{name}' of parameter {index} has shape "
                             f"{arr.shape}, but the parameter has shape {p.data.shape}")
        return arr
