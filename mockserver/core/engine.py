"""The one core behind every front door (CLI server, in-process app, pytest fixtures): clock, ids, state."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from .clock import SimulatedClock
from .ids import IdFactory
from .settings import Settings
from .store import Store


@dataclass(frozen=True)
class Violation:
    """A response the fake sent that its own spec does not allow."""

    provider: str
    operation: str
    status: int
    problems: tuple[str, ...]


@dataclass(frozen=True)
class JournalEntry:
    at: float
    provider: str
    operation: str | None
    method: str
    path: str
    query: str
    status: int
    namespace: str | None


class ContractViolation(AssertionError):
    """Raised in strict mode when the fake's own response breaks its spec."""


@dataclass
class Engine:
    settings: Settings
    backend_factories: dict[str, Callable[["Engine"], Any]]
    clock: SimulatedClock = field(init=False)
    ids: IdFactory = field(init=False)
    store: Store[Any] = field(init=False)
    violations: list[Violation] = field(default_factory=list, init=False)
    journal: list[JournalEntry] = field(default_factory=list, init=False)
    # user-defined scenarios by name (from a scenario file or the admin API), on top of the built-in ones
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    # the scenario a job gets when its request names none (set per server or per test)
    default_scenario: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.clock = SimulatedClock(self.settings.clock_start, self.settings.clock_speed)
        self.ids = IdFactory(self.settings.seed)
        self._lock = threading.Lock()
        factories = {name: (lambda make=make: make(self)) for name, make in self.backend_factories.items()}
        self.store = Store(factories, shared=(self, self.clock, self.ids))

    def now(self) -> float:
        return self.clock.now()

    def backend(self, provider: str, namespace: str) -> Any:
        return self.store.backend(provider, namespace)

    def reset(self) -> None:
        """Drop every file, batch and job; restart ids from the seed; keep the clock where it is."""
        self.store.reset()
        self.ids.reset(self.settings.seed)
        with self._lock:
            self.violations.clear()
            self.journal.clear()

    def record_violation(self, violation: Violation) -> None:
        with self._lock:
            self.violations.append(violation)

    def record(self, entry: JournalEntry) -> None:
        with self._lock:
            self.journal.append(entry)
            if len(self.journal) > 10_000:
                del self.journal[: len(self.journal) - 10_000]
