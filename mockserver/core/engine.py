"""The one core behind every front door (CLI server, in-process app, pytest fixtures): clock, ids, state."""

from __future__ import annotations

import copy
import threading
from collections import deque
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
    status: int  # 0: no response (a fault dropped the connection)
    namespace: str | None
    fault: str | None = None  # the id of the fault that answered instead of the handler


JOURNAL_LIMIT = 10_000  # the newest entries kept


class Journal(deque[JournalEntry]):
    """The newest JOURNAL_LIMIT entries: O(1) per request. Compares equal to a list of the same entries."""

    def __init__(self) -> None:
        super().__init__(maxlen=JOURNAL_LIMIT)

    def __eq__(self, other: object) -> bool:
        return list(self) == other if isinstance(other, list) else super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]


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
    journal: Journal = field(default_factory=Journal, init=False)
    # user-defined scenarios by name (from a scenario file or the admin API), on top of the built-in ones
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    # the scenario a job gets when its request names none (set per server or per test)
    default_scenario: str | None = field(default=None, init=False)
    # active fault rules (mockserver.faults.Fault), matched by dispatch after routing
    faults: list[Any] = field(default_factory=list, init=False)
    # run on every backend when it is created: (provider, namespace, backend); preloads fixtures
    seeders: list[Callable[[str, str, Any], None]] = field(default_factory=list, init=False)
    # run at the end of reset(): put back what the server started with (scenarios, faults, fixtures)
    reset_hooks: list[Callable[["Engine"], None]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.clock = SimulatedClock(self.settings.clock_start, self.settings.clock_speed)
        self.ids = IdFactory(self.settings.seed)
        self._lock = threading.Lock()
        self._seed_lock = threading.RLock()
        self._seeded: set[tuple[str, str]] = set()
        self._snapshots: dict[str, dict[str, Any]] = {}
        factories = {name: (lambda make=make: make(self)) for name, make in self.backend_factories.items()}
        self.store = Store(factories, shared=(self, self.clock, self.ids))

    def now(self) -> float:
        return self.clock.now()

    def backend(self, provider: str, namespace: str) -> Any:
        key = (provider, namespace)
        if key in self._seeded:
            return self.store.backend(provider, namespace)
        with self._seed_lock:
            backend = self.store.backend(provider, namespace)
            if key not in self._seeded:
                for seed in list(self.seeders):
                    seed(provider, namespace, backend)
                self._seeded.add(key)
            return backend

    def reset(self) -> None:
        """Back to the state after start: drop every file, batch and job, every fault and snapshot;
        restart ids from the seed; run the reset hooks; keep the clock where it is."""
        with self._seed_lock:
            self.store.reset()
            self._seeded.clear()
        self.ids.reset(self.settings.seed)
        with self._lock:
            self.violations.clear()
            self.journal.clear()
            self.faults.clear()
            self._snapshots.clear()
        for hook in list(self.reset_hooks):
            hook(self)

    def snapshot(self) -> str:
        """Save the whole state (every backend, the scenarios, the default scenario, the faults with their
        counters) under a new id. The clock, the ids, the journal and the violations are not part of it."""
        with self._seed_lock:
            state = {
                "store": self.store.snapshot(),
                "scenarios": copy.deepcopy(self.scenarios),
                "default_scenario": self.default_scenario,
                "faults": copy.deepcopy(self.faults),
            }
        with self._lock:
            snapshot_id = f"snap_{len(self._snapshots) + 1}"
            self._snapshots[snapshot_id] = state
        return snapshot_id

    def restore(self, snapshot_id: str) -> None:
        """Put back the state saved by ``snapshot``; KeyError if there is no such snapshot."""
        state = self._snapshots[snapshot_id]
        with self._seed_lock:
            self.store.restore(state["store"])
            self._seeded = {(provider, namespace) for provider, namespace, _ in self.store.namespaces()}
            self.scenarios = copy.deepcopy(state["scenarios"])
            self.default_scenario = state["default_scenario"]
            self.faults = copy.deepcopy(state["faults"])

    def snapshots(self) -> list[str]:
        with self._lock:
            return list(self._snapshots)

    def clear_journal(self) -> None:
        with self._lock:
            self.journal.clear()

    def record_violation(self, violation: Violation) -> None:
        with self._lock:
            self.violations.append(violation)

    def record(self, entry: JournalEntry) -> None:
        with self._lock:
            self.journal.append(entry)
