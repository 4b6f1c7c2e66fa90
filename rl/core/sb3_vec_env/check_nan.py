"""VecCheckNan: SB3's wrapper that finds NaN / inf in actions, observations and rewards as they pass."""

from __future__ import annotations

import warnings

import numpy as np

from .base import VecEnvWrapper

__all__ = ["VecCheckNan"]


class VecCheckNan(VecEnvWrapper):
    """raise_exception: raise a ValueError instead of warning; warn_once: warn only the first time;
    check_inf: inf counts as invalid too."""

    def __init__(self, venv, raise_exception: bool = False, warn_once: bool = True, check_inf: bool = True):
        super().__init__(venv)
        self.raise_exception, self.warn_once, self.check_inf = bool(raise_exception), bool(warn_once), bool(check_inf)
        self._user_warned = False
        self._actions = None

    def step_async(self, actions) -> None:
        self._check_val(event="step_async", actions=actions)
        self._actions = actions
        self.venv.step_async(actions)

    def step_wait(self):
        observations, rewards, dones, infos = self.venv.step_wait()
        self._check_val(event="step_wait", observations=observations, rewards=rewards, dones=dones)
        return observations, rewards, dones, infos

    def reset(self):
        observations = self.venv.reset()
        self._actions = None
        self._check_val(event="reset", observations=observations)
        return observations

    def _find_invalid(self, name: str, value) -> list[tuple[str, str]]:
        if isinstance(value, dict):
            return [item for k, v in value.items() for item in self._find_invalid(f"{name}[{k!r}]", v)]
        if isinstance(value, tuple):
            return [item for i, v in enumerate(value) for item in self._find_invalid(f"{name}[{i}]", v)]
        arr = np.asarray(value)
        if arr.dtype.kind not in "fc":
            return []
        found = []
        if np.isnan(arr).any():
            found.append((name, "nan"))
        if self.check_inf and np.isinf(arr).any():
            found.append((name, "inf"))
        return found

    def _check_val(self, event: str, **values) -> None:
        if not self.raise_exception and self.warn_once and self._user_warned:
            return
        found = [item for name, value in values.items() for item in self._find_invalid(name, value)]
        if not found:
            return
        self._user_warned = True
        where = ", ".join(f"{kind} in {name}" for name, kind in found)
        if event == "reset":
            msg = f"found {where} after the environment was reset"
        elif event == "step_wait":
            msg = f"found {where} from the environment, in response to the actions {self._actions!r}"
        else:
            msg = f"found {where} in the actions given to the environment"
        if self.raise_exception:
            raise ValueError(msg)
        warnings.warn(msg, UserWarning, stacklevel=3)
