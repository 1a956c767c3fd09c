from __future__ import annotations

import pytest

from mockserver.core.clock import SimulatedClock


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_follows_real_time_at_speed_one() -> None:
    real = FakeTime()
    clock = SimulatedClock(start=50.0, source=real)
    real.t += 3
    assert clock.now() == pytest.approx(53.0)


def test_speed_scales_elapsed_time_and_zero_freezes() -> None:
    real = FakeTime()
    clock = SimulatedClock(start=0.0, speed=60, source=real)
    real.t += 2
    assert clock.now() == pytest.approx(120.0)
    clock.set_speed(0)
    real.t += 100
    assert clock.now() == pytest.approx(120.0)


def test_advance_jumps_forward_and_never_back() -> None:
    real = FakeTime()
    clock = SimulatedClock(start=10.0, speed=0, source=real)
    assert clock.advance(90) == pytest.approx(100.0)
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.set_speed(-2)


@pytest.mark.parametrize("speed", [float("nan"), float("inf"), -1.0, 1e12])
def test_non_finite_or_absurd_speeds_are_refused_and_the_clock_keeps_working(speed: float) -> None:
    clock = SimulatedClock(start=0.0, speed=0, source=FakeTime())
    with pytest.raises(ValueError):
        clock.set_speed(speed)
    with pytest.raises(ValueError):
        SimulatedClock(speed=speed)
    assert clock.advance(5) == pytest.approx(5.0)


def test_advance_is_bounded_to_printable_dates() -> None:
    clock = SimulatedClock(start=0.0, speed=0, source=FakeTime())
    for bad in (float("nan"), float("inf"), 3e11):
        with pytest.raises(ValueError):
            clock.advance(bad)
    assert clock.now() == 0.0
