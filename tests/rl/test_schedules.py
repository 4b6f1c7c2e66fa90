"""Schedules: constant, linear, rl-zoo strings, JSON round trip."""
import pytest

from rl.core.schedules import LinearSchedule, get_schedule_fn, linear_schedule, schedule_from_json, schedule_to_json


def test_constant_and_linear():
    assert get_schedule_fn(3e-4)(0.3) == pytest.approx(3e-4)
    f = get_schedule_fn("lin_0.001")
    assert f(1.0) == pytest.approx(1e-3) and f(0.5) == pytest.approx(5e-4) and f(0.0) == 0.0
    assert linear_schedule(1.0, 0.5)(0.0) == pytest.approx(0.5)
    assert LinearSchedule(1.0, 0.0, end_fraction=0.5)(0.4) == 0.0
    g = lambda p: 2 * p  # noqa: E731
    assert get_schedule_fn(g) is g


def test_bad_values():
    with pytest.raises(ValueError, match="lin_"):
        get_schedule_fn("fast")
    with pytest.raises(TypeError):
        get_schedule_fn([1, 2])


def test_json_round_trip():
    for s in (get_schedule_fn(0.1), get_schedule_fn("lin_0.2")):
        back = schedule_from_json(schedule_to_json(s))
        assert [back(p) for p in (1.0, 0.3, 0.0)] == [s(p) for p in (1.0, 0.3, 0.0)]
    frozen = schedule_from_json(schedule_to_json(lambda p: 5 * p, progress_remaining=0.2))
    assert frozen(1.0) == pytest.approx(1.0)
