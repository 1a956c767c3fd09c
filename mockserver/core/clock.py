"""The simulated clock every model reads: real time scaled by a speed factor, plus manual advances."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

# the simulated clock stays before this moment (2999-12-31): timestamps must remain printable as dates
HORIZON = 32_503_593_600.0
MAX_SPEED = 1_000_000.0


def _check_speed(speed: float) -> float:
    if isinstance(speed, bool) or not math.isfinite(speed) or not 0 <= speed <= MAX_SPEED:
        raise ValueError(f"clock speed must be a finite number from 0 to {MAX_SPEED:g}, got {speed!r}")
    return float(speed)


class Clock(Protocol):
    def now(self) -> float: ...


class SimulatedClock:
    """now = start + (real elapsed) * speed + advanced.

    speed 1.0 follows real time, 0 freezes it, 60 runs a minute per second; ``advance`` jumps forward.
    The clock never goes backwards, so lifecycles evaluated on read stay monotonic.
    """

    def __init__(
        self,
        start: float | None = None,
        speed: float = 1.0,
        source: Callable[[], float] = time.time,
    ) -> None:
        self._source = source
        self._lock = threading.Lock()
        # (start, anchor, speed), replaced whole under the lock: a read takes it without the lock and always
        # sees one consistent triple
        self._state = (float(source() if start is None else start), source(), _check_speed(speed))
        self._watchers: list[Callable[[], None]] = []

    def watch(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every advance or change of speed (the webhook dispatcher's wake-up)."""
        self._watchers.append(callback)

    def _changed(self) -> None:
        for callback in list(self._watchers):
            callback()

    @property
    def speed(self) -> float:
        return self._state[2]

    def now(self) -> float:
        start, anchor, speed = self._state
        return start + (self._source() - anchor) * speed

    def advance(self, seconds: float) -> float:
        if isinstance(seconds, bool) or not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"seconds must be a finite number >= 0 (the clock never goes backwards), got {seconds!r}")
        if self.now() + seconds > HORIZON:
            raise ValueError(f"advancing by {seconds:g} s would pass the year 2999")
        with self._lock:
            start, anchor, speed = self._state
            self._state = (start + seconds, anchor, speed)
        self._changed()
        return self.now()

    def state(self) -> tuple[float, float, float]:
        """(start, anchor, speed): with the default source (wall time) any process computes the same ``now``."""
        return self._state

    def load_state(self, state: tuple[float, float, float]) -> None:
        """Take the state another process (or this one before a restart) saved."""
        start, anchor, speed = state
        with self._lock:
            self._state = (float(start), float(anchor), _check_speed(speed))

    def set_speed(self, speed: float) -> None:
        speed = _check_speed(speed)
        with self._lock:
            real = self._source()
            start, anchor, old = self._state
            self._state = (start + (real - anchor) * old, real, float(speed))
        self._changed()
