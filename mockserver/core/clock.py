"""The simulated clock every model reads: real time scaled by a speed factor, plus manual advances."""

from __future__ import annotations

import threading
import time
from typing import Callable, Protocol


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
        if speed < 0:
            raise ValueError("clock speed must be >= 0")
        self._source = source
        self._lock = threading.Lock()
        self._start = float(source() if start is None else start)
        self._anchor = source()
        self._speed = float(speed)

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        with self._lock:
            return self._start + (self._source() - self._anchor) * self._speed

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock cannot go backwards")
        with self._lock:
            self._start += seconds
        return self.now()

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("clock speed must be >= 0")
        with self._lock:
            real = self._source()
            self._start += (real - self._anchor) * self._speed
            self._anchor = real
            self._speed = float(speed)
