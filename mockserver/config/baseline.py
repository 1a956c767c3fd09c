"""What a server starts with and returns to on every reset: scenarios, the default scenario, faults, fixtures."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.engine import Engine
from ..core.settings import ConfigError
from ..providers.base import Provider
from .documents import load_document
from .faults import Fault, add_faults, check_operations
from .fixtures import Fixture, check_fixtures, load_fixture_file, seeder
from .scenarios import check_scenario_name, parse_scenario_file
from .webhooks import EndpointSpec, check_endpoint, register


def operations_of(providers: dict[str, Provider]) -> dict[str, set[str]]:
    """Every operationId of every mounted provider (handled or listed unsupported)."""
    return {name: set(p.handlers) | set(p.unsupported) for name, p in providers.items()}


@dataclass
class Baseline:
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_scenario: str | None = None
    faults: list[Fault] = field(default_factory=list)
    fixtures: list[Fixture] = field(default_factory=list)
    webhooks: list[EndpointSpec] = field(default_factory=list)
    providers: dict[str, Provider] = field(default_factory=dict, repr=False, compare=False)  # set by install()

    @classmethod
    def load(
        cls, scenario_files: Iterable[str | Path] = (), fixture_files: Iterable[str | Path] = (), default_scenario: str | None = None
    ) -> Baseline:
        """Read scenario files (later files win for a name and for the default; faults add up) and fixture
        files (in order). DocumentError names the file, line and key of the first mistake."""
        baseline = cls()
        for path in scenario_files:
            parsed = parse_scenario_file(load_document(path), known=set(baseline.scenarios))
            baseline.scenarios.update(parsed.scenarios)
            baseline.default_scenario = parsed.default or baseline.default_scenario
            baseline.faults.extend(parsed.faults)
            baseline.webhooks.extend(parsed.webhooks)
        for path in fixture_files:
            baseline.fixtures.extend(load_fixture_file(path))
        if default_scenario is not None:
            baseline.default_scenario = default_scenario
        return baseline

    def install(self, engine: Engine, providers: dict[str, Provider]) -> Baseline:
        """Check everything against this server (operations, scenario names, fixtures), apply it now and
        after every ``engine.reset()``."""
        check_operations(self.faults, operations_of(providers))
        with engine.store.transaction():  # durable state: one transaction, so two workers starting at once agree
            resumed = engine.store.initialized()  # a durable state from an earlier run: carry on, do not reset it
            kept = engine.scenarios.state()
            engine.scenarios.replace_all(self.scenarios, None)
            check_scenario_name(engine, self.default_scenario, "default scenario")
            self.fixtures = check_fixtures(self.fixtures, engine)
            for spec in self.webhooks:
                try:
                    check_endpoint(spec, providers)
                except ValueError as exc:
                    raise ConfigError(f"webhooks: {spec.provider} endpoint {spec.url}: {exc}") from None
            self.providers = providers
            engine.reset_hooks.add(self.apply)
            if resumed:
                engine.scenarios.replace_all(*kept)
                self.apply_seeders(engine, resumed=True)
            else:
                engine.reset()
        return self

    def apply(self, engine: Engine) -> None:
        engine.scenarios.replace_all(self.scenarios, self.default_scenario)
        engine.faults.clear()
        add_faults(engine, self.faults)
        self.apply_seeders(engine)

    def apply_seeders(self, engine: Engine, resumed: bool = False) -> None:
        engine.seeders.set([seeder(self.fixtures)] if self.fixtures else [])
        stored = {(e.provider, e.namespace, e.url) for e in engine.outbox.endpoints.values()} if resumed else set()
        for spec in self.webhooks:
            if (spec.provider, spec.key, spec.url) not in stored:  # a resumed state keeps the endpoints it stored
                register(engine, self.providers, spec)
