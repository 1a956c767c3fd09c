"""Fixture files: files, batches, batch tests and batch calls preloaded into every new namespace.

Schema::

    fixtures:
      - provider: anyapi | portkey | phaseo | retell | formant
        kind: <a kind the provider's backend loads>   # file, batch (OpenAI family); test_case_definition,
                                                      # batch_test, test_run, batch_call, call (Retell); batch_call (FormantAI)
        api_key: <key>          # optional: only the namespace of this API key (default: every namespace)
        data: {...}             # what the backend's load_fixture(kind, data) takes

Namespaces (one per API key) are created lazily, so fixtures are loaded into a backend when it is created:
right after start, and again after every reset, whatever key a client uses. Each fixture is tried at load
time in a scratch engine, so a mistake is reported with its file and line before the server starts.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.backend import Backend
from ..core.engine import Engine
from ..core.errors import MockError
from .documents import Document, DocumentError, Key, load_document, mapping, string
from .settings import PROVIDER_NAMES

log = logging.getLogger("mockserver")

FIXTURE_KEYS = ("provider", "kind", "api_key", "data")


@dataclass(frozen=True)
class Fixture:
    provider: str
    kind: str
    data: dict[str, Any]
    api_key: str | None = None
    origin: str = ""

    def applies_to(self, provider: str, namespace: str) -> bool:
        return self.provider == provider and self.api_key in (None, namespace)


def parse_fixture(doc: Document, key: Key, value: Any) -> Fixture:
    data = mapping(doc, key, value, FIXTURE_KEYS)
    for required in ("provider", "kind", "data"):
        if required not in data:
            raise doc.error(key, f"a fixture with '{required}' ({', '.join(FIXTURE_KEYS)})", show_got=False)
    return Fixture(
        provider=string(doc, (*key, "provider"), data["provider"], PROVIDER_NAMES),
        kind=string(doc, (*key, "kind"), data["kind"]),
        data=mapping(doc, (*key, "data"), data["data"]),
        api_key=None if data.get("api_key") is None else string(doc, (*key, "api_key"), data["api_key"]),
        origin=doc.where(key),
    )


def parse_fixture_file(doc: Document) -> list[Fixture]:
    """``fixtures: [...]`` (or the bare list)."""
    key: Key = ()
    items = doc.data
    if isinstance(items, dict):
        key, items = ("fixtures",), mapping(doc, (), items, ("fixtures",)).get("fixtures")
    if items is None:
        return []
    if not isinstance(items, list):
        raise doc.error(key, "a list of fixtures", type(items).__name__)
    return [parse_fixture(doc, (*key, i), item) for i, item in enumerate(items)]


def load_fixture_file(path: str | Path) -> list[Fixture]:
    return parse_fixture_file(load_document(path))


def check_fixtures(fixtures: list[Fixture], engine: Engine) -> list[Fixture]:
    """Load ``fixtures`` into scratch backends (a throwaway engine with the same settings and scenarios);
    a fixture the backend refuses raises DocumentError naming where it was written. Fixtures of a provider
    this server does not mount are left out with a warning; the rest are returned."""
    mounted = [f for f in fixtures if f.provider in engine.backend_factories]
    for fixture in fixtures:
        if fixture.provider not in engine.backend_factories:
            log.warning("%s: provider %r is not mounted on this server; fixture left out", fixture.origin, fixture.provider)
    scratch = Engine(engine.settings, engine.backend_factories)
    scratch.scenarios.replace_all(*engine.scenarios.state())
    namespaces = {f.api_key for f in mounted} | {None}
    for namespace in namespaces:
        backends: dict[str, Any] = {}
        for fixture in mounted:
            if fixture.api_key not in (None, namespace):
                continue
            backend = backends.get(fixture.provider) or backends.setdefault(fixture.provider, engine.backend_factories[fixture.provider](scratch))
            load(fixture, backend)
    return mounted


def load(fixture: Fixture, backend: Backend) -> None:
    try:
        backend.load_fixture(fixture.kind, copy.deepcopy(fixture.data))
    except Exception as exc:  # whatever the backend trips on, the fixture file is to blame: name it
        if isinstance(exc, MockError):
            message = exc.message
        elif isinstance(exc, KeyError):
            message = f"missing key {exc}"
        elif isinstance(exc, (ValueError, TypeError)):
            message = str(exc)
        else:
            message = f"{type(exc).__name__}: {exc}"
        raise DocumentError(f"{fixture.origin}: {fixture.provider} {fixture.kind}: expected data the backend can load: {message}") from exc


def seeder(fixtures: list[Fixture]) -> Callable[[str, str, Any], None]:
    """What the engine runs on each new backend: load the fixtures meant for it, in file order."""

    def seed(provider: str, namespace: str, backend: Any) -> None:
        for fixture in fixtures:
            if fixture.applies_to(provider, namespace):
                load(fixture, backend)

    return seed
