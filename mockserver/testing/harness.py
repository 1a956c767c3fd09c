"""What the pytest fixtures hand a test: one fake (live or in-process), its clock and journal, and the
per-test settings of the ``mockserver`` marker, applied before the test and undone after it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config.baseline import operations_of
from ..config.documents import Document, integer, mapping, number
from ..config.faults import Fault, add_faults, check_operations, parse_faults
from ..config.fixtures import Fixture, check_fixtures, load_fixture_file, parse_fixture, seeder
from ..config.scenarios import check_scenario_name, parse_scenario
from ..config.webhooks import EndpointSpec, check_endpoint, parse_endpoints, register
from ..core.engine import Engine, JournalEntry
from ..core.settings import ConfigError
from ..providers.base import Provider
from .webhooks import WebhookControl

MARKER_KEYS = ("scenario", "seed", "clock_speed", "faults", "fixtures", "scenarios", "webhooks")
IN_PROCESS_URL = "http://mockserver"  # the base an httpx client with ASGITransport can take


@dataclass
class MarkerSettings:
    """One test's settings, from its ``@pytest.mark.mockserver(...)``."""

    scenario: str | None = None
    seed: int | None = None
    clock_speed: float | None = None
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    fixtures: list[Fixture] = field(default_factory=list)
    webhooks: list[EndpointSpec] = field(default_factory=list)  # account webhook endpoints {provider, key, url, ...}


def marker_settings(kwargs: dict[str, Any], source: str, base_dir: Path | None = None) -> MarkerSettings:
    """Check the marker's keyword arguments; ``fixtures`` holds fixture file paths (relative to ``base_dir``
    when they exist there) or fixture entries written inline."""
    doc = Document(kwargs, source)
    mapping(doc, (), kwargs, MARKER_KEYS)
    settings = MarkerSettings()
    if kwargs.get("scenario") is not None:
        if not isinstance(kwargs["scenario"], str):
            raise doc.error(("scenario",), "a scenario name", kwargs["scenario"])
        settings.scenario = kwargs["scenario"]
    if kwargs.get("seed") is not None:
        settings.seed = integer(doc, ("seed",), kwargs["seed"])
    if kwargs.get("clock_speed") is not None:
        settings.clock_speed = number(doc, ("clock_speed",), kwargs["clock_speed"])
    for name, item in mapping(doc, ("scenarios",), kwargs.get("scenarios") or {}).items():
        settings.scenarios[name] = parse_scenario(doc, ("scenarios", name), item)
    settings.faults = parse_faults(doc, ("faults",), kwargs.get("faults") or [])
    settings.webhooks = parse_endpoints(doc, ("webhooks",), kwargs.get("webhooks") or [])
    items = kwargs.get("fixtures") or []
    if not isinstance(items, (list, tuple)):
        raise doc.error(("fixtures",), "a list of fixture file paths or fixture entries", items)
    for index, item in enumerate(items):
        if isinstance(item, dict):
            settings.fixtures.append(parse_fixture(doc, ("fixtures", index), item))
        elif isinstance(item, (str, Path)):
            path = Path(item)
            if base_dir is not None and not path.is_absolute() and (base_dir / path).exists():
                path = base_dir / path
            settings.fixtures.extend(load_fixture_file(path))
        else:
            raise doc.error(("fixtures", index), "a fixture file path or a fixture entry (a dict)", item)
    return settings


class Clock:
    """The fake's simulated clock, as a test moves it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def now(self) -> float:
        return self._engine.clock.now()

    def advance(self, seconds: float) -> float:
        """Move the clock forward (never back); returns the new time."""
        return self._engine.clock.advance(seconds)

    @property
    def speed(self) -> float:
        return self._engine.clock.speed

    def set_speed(self, speed: float) -> None:
        self._engine.clock.set_speed(speed)


class Harness:
    """One fake: ``base_url(provider)``, ``clock``, ``reset()``, the journal, faults, snapshots."""

    def __init__(self, engine: Engine, providers: dict[str, Provider], url: str | None = None, app: Any = None) -> None:
        self.engine = engine
        self.providers = providers
        self.url = url or IN_PROCESS_URL
        self.app = app
        self.clock = Clock(engine)
        dispatcher = getattr(getattr(app, "state", None), "webhooks", None)
        self.webhooks = WebhookControl(engine, providers, dispatcher.poke if dispatcher is not None else None)

    def base_url(self, provider: str) -> str:
        """The URL an SDK takes as ``base_url`` for ``provider`` (anyapi, portkey, phaseo, retell, formant)."""
        if provider not in self.providers:
            raise KeyError(f"no provider {provider!r} on this server (providers: {', '.join(self.providers)})")
        return self.url + self.providers[provider].prefix

    @property
    def admin_headers(self) -> dict[str, str]:
        """Headers for an HTTP call to ``/_mock`` (the admin token's ``Authorization`` when the fake has one)."""
        token = self.engine.settings.admin_token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def reset(self) -> None:
        """Back to the state after start: no state but the preloaded fixtures; start-up scenarios and faults."""
        self.engine.reset()

    def requests(self, provider: str | None = None, operation: str | None = None, status: int | None = None) -> list[JournalEntry]:
        """The calls the fake has answered (or dropped) since the last reset, oldest first."""
        return [
            e for e in list(self.engine.journal)
            if provider in (None, e.provider) and operation in (None, e.operation) and status in (None, e.status)
        ]

    def add_faults(self, *faults: dict[str, Any]) -> list[Fault]:
        """Faults, written as in a scenario file; they last until the next reset."""
        parsed = parse_faults(Document(list(faults), "add_faults()"), (), list(faults))
        check_operations(parsed, operations_of(self.providers))
        return add_faults(self.engine, parsed)

    def snapshot(self) -> str:
        return self.engine.snapshot()

    def restore(self, snapshot_id: str) -> None:
        self.engine.restore(snapshot_id)

    @contextmanager
    def for_test(self, settings: MarkerSettings) -> Iterator[Harness]:
        """Reset, apply one test's settings, and undo them afterwards (the fake is shared by the session).
        A ``reset()`` during the test keeps them: they are part of the test's starting state."""
        engine = self.engine
        saved_seed, saved_speed = engine.settings.seed, engine.clock.speed
        engine.reset()
        hook = None
        try:
            if settings.seed is not None:
                engine.reseed(settings.seed)
            if settings.clock_speed is not None:
                engine.clock.set_speed(settings.clock_speed)
            hook = self._checked(settings)
            hook(engine)
            engine.reset_hooks.add(hook)
            yield self
        finally:
            if hook is not None:
                engine.reset_hooks.remove(hook)
            engine.reseed(saved_seed)
            engine.clock.set_speed(saved_speed)
            engine.reset()

    def _checked(self, settings: MarkerSettings) -> Callable[[Engine], None]:
        """Check the marker's scenarios, faults and fixtures against this fake; return what applies them."""
        engine = self.engine
        user, default = engine.scenarios.state()
        known = {**user, **settings.scenarios}
        if settings.scenario is not None and settings.scenario not in known:
            check_scenario_name(engine, settings.scenario, "@pytest.mark.mockserver(scenario=...)")
        check_operations(settings.faults, operations_of(self.providers))
        for spec in settings.webhooks:
            try:
                check_endpoint(spec, self.providers)
            except ValueError as exc:
                raise ConfigError(f"@pytest.mark.mockserver(webhooks=...): {spec.provider} endpoint {spec.url}: {exc}") from None
        engine.scenarios.replace_all(known, default)  # fixtures may name the marker's scenarios
        try:
            fixtures = check_fixtures(settings.fixtures, engine) if settings.fixtures else []
        finally:
            engine.scenarios.replace_all(user, default)
        marker_seeder = seeder(fixtures) if fixtures else None

        def apply(engine: Engine) -> None:
            engine.scenarios.update(settings.scenarios)
            if settings.scenario is not None:
                engine.scenarios.default = settings.scenario
            add_faults(engine, settings.faults)
            if marker_seeder is not None:
                engine.seeders.add(marker_seeder)
            for spec in settings.webhooks:
                register(engine, self.providers, spec)

        return apply


__all__ = ["Clock", "Harness", "MarkerSettings", "marker_settings"]
