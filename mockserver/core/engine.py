"""The one core behind every front door (CLI server, in-process app, pytest fixtures): clock, ids, state, and
the registries (journal, violations, scenarios, faults, hooks), each of which owns its lock.

Nothing outside the engine assigns to its parts: they are read-only properties; what changes goes through the
registries' methods or the engine's verbs (``reset``, ``snapshot``, ``restore``, ``reseed``).
"""

from __future__ import annotations

import functools
import secrets
import threading
from collections.abc import Callable
from typing import Any

from .clock import SimulatedClock
from .ids import IdFactory
from .outbox import Outbox
from .registries import (
    FaultRules,
    Hooks,
    Journal,
    JournalEntry,
    ScenarioBook,
    Seeder,
    Violation,
    Violations,
)
from .settings import Settings
from .state import StateEngine
from .state.parts import durable_parts
from .store import Store

__all__ = ["ContractViolation", "Engine", "JournalEntry", "Violation"]


class ContractViolation(AssertionError):
    """Raised in strict mode when the fake's own response breaks its spec."""


class Engine:
    def __init__(self, settings: Settings, backend_factories: dict[str, Callable[[Engine], Any]], state: StateEngine | None = None) -> None:
        self._settings = settings
        self._clock = SimulatedClock(settings.clock_start, settings.clock_speed)
        self._ids = IdFactory(settings.seed)
        self._journal = Journal()
        self._outbox = Outbox()  # webhook endpoints and deliveries (plain data; the server's dispatcher sends them)
        self._violations = Violations()
        self._scenarios = ScenarioBook()
        self._faults: FaultRules[Any] = FaultRules()
        # run on every backend when it is created: (provider, namespace, backend); preloads fixtures
        self._seeders: Hooks[Seeder] = Hooks()
        # run at the end of reset(): put back what the server started with (scenarios, faults, fixtures)
        self._reset_hooks: Hooks[Callable[[Engine], None]] = Hooks()
        self._lock = threading.Lock()
        self._seed_lock = threading.RLock()
        self._factories = dict(backend_factories)
        factories: dict[str, Callable[[], Any]] = {name: functools.partial(make, self) for name, make in backend_factories.items()}
        # durable state (core/state/): the clock, ids, scenarios, faults and outbox are stored beside the backends
        parts = durable_parts(self._clock, self._ids, self._scenarios, self._faults, self._outbox) if state is not None else ()
        self._store: Store[Any] = Store(factories, shared=(self, self._clock, self._ids), state=state, parts=parts)
        if state is not None:
            self._ids.make_local("req_", secrets.token_hex(8))  # request ids: unique per process, never stored
            self._ids.on_draw = self._store.require_write

    # -- the parts (read-only) ----------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def backend_factories(self) -> dict[str, Callable[[Engine], Any]]:
        return dict(self._factories)

    @property
    def clock(self) -> SimulatedClock:
        return self._clock

    @property
    def ids(self) -> IdFactory:
        return self._ids

    @property
    def store(self) -> Store[Any]:
        return self._store

    @property
    def outbox(self) -> Outbox:
        return self._outbox

    @property
    def journal(self) -> Journal:
        return self._journal

    @property
    def violations(self) -> Violations:
        return self._violations

    @property
    def scenarios(self) -> ScenarioBook:
        return self._scenarios

    @property
    def faults(self) -> FaultRules[Any]:
        return self._faults

    @property
    def seeders(self) -> Hooks[Seeder]:
        return self._seeders

    @property
    def reset_hooks(self) -> Hooks[Callable[[Engine], None]]:
        return self._reset_hooks

    # -- verbs ---------------------------------------------------------------------------------------------
    def now(self) -> float:
        return self._clock.now()

    def reseed(self, seed: int) -> None:
        """Use ``seed`` from now on (ids restart from it; seeded outcomes follow it)."""
        with self._lock:
            self._settings = self._settings.replace(seed=seed)
        self._ids.reset(seed)

    def backend(self, provider: str, namespace: str) -> Any:
        if not len(self._seeders):
            return self._store.backend(provider, namespace)

        def seed(backend: Any) -> None:  # a new namespace gets the fixtures
            for seeder in self._seeders:
                seeder(provider, namespace, backend)

        return self._store.backend(provider, namespace, seed)

    def reset(self) -> None:
        """Back to the state after start: drop every file, batch and job, every fault and snapshot;
        restart ids from the seed; run the reset hooks; keep the clock where it is."""
        with self._seed_lock:
            self._store.reset()  # the snapshots too
        self._ids.reset(self._settings.seed)
        self._violations.clear()
        self._journal.clear()
        self._faults.clear()
        self._outbox.clear()
        for hook in self._reset_hooks:
            hook(self)

    def snapshot(self, name: str | None = None) -> str:
        """Save the whole state (every backend, the scenarios, the default scenario, the faults with their
        counters) under ``name`` (default: a new id snap_N); a durable store keeps it across restarts. The
        clock, the ids, the journal and the violations are not part of it."""
        return self.keep_snapshot(self.snapshot_state(), name)

    def snapshot_state(self) -> dict[str, Any]:
        with self._seed_lock:
            scenarios, default = self._scenarios.state()
            return {"store": self._store.snapshot(), "scenarios": scenarios, "default_scenario": default, "faults": self._faults.state()}

    def keep_snapshot(self, state: dict[str, Any], name: str | None = None) -> str:
        return self._store.save_snapshot(state, name)

    def restore(self, snapshot_id: str) -> None:
        """Put back the state saved by ``snapshot``; KeyError if there is no such snapshot."""
        state = self._store.snapshot_state(snapshot_id)
        with self._seed_lock:
            self._store.restore(state["store"])
            self._scenarios.replace_all(state["scenarios"], state["default_scenario"])
            self._faults.put_back(state["faults"])

    def snapshots(self) -> list[str]:
        return self._store.snapshot_names()

    def clear_journal(self) -> None:
        self._journal.clear()

    def record_violation(self, violation: Violation) -> None:
        self._violations.record(violation)

    def record(self, entry: JournalEntry) -> None:
        self._journal.record(entry)
