"""Hyperparameter schedules of `progress_remaining` (1.0 at the start of learn, 0.0 at the end).

Same meaning as Stable-Baselines3: any hyperparameter SB3 lets you schedule (learning_rate,
clip_range, ...) accepts a float, a callable `f(progress_remaining) -> float`, or the rl-zoo3
string form "lin_0.001" (linear from 0.001 down to 0).

Schedules built here are small objects that describe themselves as JSON (`to_json`) so a saved
agent can restore them exactly; arbitrary user callables cannot be stored and are saved as the
constant value they had at save time (see `schedule_to_json`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "ConstantSchedule", "LinearSchedule", "get_schedule_fn", "linear_schedule", "constant_fn",
    "schedule_to_json", "schedule_from_json",
]


class ConstantSchedule:
    """f(progress_remaining) = value."""

    def __init__(self, value: float):
        self.value = float(value)

    def __call__(self, progress_remaining: float) -> float:
        return self.value

    def to_json(self) -> dict:
        return {"schedule": "constant", "value": self.value}

    def __repr__(self) -> str:
        return f"ConstantSchedule({self.value})"


class LinearSchedule:
    """Linear from `initial` (progress_remaining=1) to `final` (progress_remaining=0).

    `end_fraction` < 1 reaches `final` early (after that fraction of training) and stays there,
    like SB3's `get_linear_fn(start, end, end_fraction)`.
    """

    def __init__(self, initial: float, final: float = 0.0, end_fraction: float = 1.0):
        if not 0.0 < end_fraction <= 1.0:
            raise ValueError(f"end_fraction must be in (0, 1], got {end_fraction}")
        self.initial, self.final, self.end_fraction = float(initial), float(final), float(end_fraction)

    def __call__(self, progress_remaining: float) -> float:
        done = (1.0 - float(progress_remaining)) / self.end_fraction
        if done >= 1.0:
            return self.final
        return self.initial + max(done, 0.0) * (self.final - self.initial)

    def to_json(self) -> dict:
        return {"schedule": "linear", "initial": self.initial, "final": self.final,
                "end_fraction": self.end_fraction}

    def __repr__(self) -> str:
        return f"LinearSchedule({self.initial}, {self.final})"


def linear_schedule(initial: float, final: float = 0.0) -> LinearSchedule:
    """Linear schedule from `initial` to `final` over training (SB3 rl-zoo `linear_schedule`)."""
    return LinearSchedule(initial, final)


def constant_fn(value: float) -> ConstantSchedule:
    """Constant schedule (SB3's `constant_fn`)."""
    return ConstantSchedule(value)


def _parse_string(value: str):
    text = value.strip()
    for prefix in ("lin_", "linear_"):
        if text.startswith(prefix):
            try:
                return LinearSchedule(float(text[len(prefix):]))
            except ValueError:
                break
    try:
        return ConstantSchedule(float(text))
    except ValueError:
        raise ValueError(
            f"cannot read schedule {value!r}: expected a number or 'lin_<initial>' (e.g. 'lin_0.001')"
        ) from None


def get_schedule_fn(value: Any) -> Callable[[float], float]:
    """float/int -> constant; "lin_X" -> linear X..0; "0.5" -> constant; callable kept as is."""
    if isinstance(value, (ConstantSchedule, LinearSchedule)):
        return value
    if isinstance(value, bool):
        raise TypeError("a schedule cannot be a bool")
    if isinstance(value, (int, float)):
        return ConstantSchedule(value)
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # NumPy scalar
        return ConstantSchedule(float(value))
    if isinstance(value, str):
        return _parse_string(value)
    if isinstance(value, dict) and "schedule" in value:
        return schedule_from_json(value)
    if callable(value):
        return value
    raise TypeError(f"cannot make a schedule from {type(value).__name__}: {value!r}")


def schedule_to_json(value: Any, progress_remaining: float = 1.0):
    """JSON-able form of a hyperparameter that may be a schedule.

    Plain numbers/strings pass through; our schedule objects give their description; any other
    callable is frozen to its value at `progress_remaining` (a user function cannot be stored
    without pickling).
    """
    if isinstance(value, (ConstantSchedule, LinearSchedule)):
        return value.to_json()
    if callable(value):
        return {"schedule": "constant", "value": float(value(progress_remaining)), "frozen_callable": True}
    return value


def schedule_from_json(value: Any):
    """Inverse of `schedule_to_json` for dict descriptions; other values pass through."""
    if isinstance(value, dict) and "schedule" in value:
        kind = value["schedule"]
        if kind == "constant":
            return ConstantSchedule(value["value"])
        if kind == "linear":
            return LinearSchedule(value["initial"], value.get("final", 0.0), value.get("end_fraction", 1.0))
        raise ValueError(f"unknown schedule kind {kind!r}")
    return value
