"""``with mockserver.running() as fake:`` — the pytest plugin's ``mock_server`` for scripts, notebooks, unittest
and other frameworks: a live fake on a free loopback port, with the same face (``base_url(provider)``,
``clock.advance`` / ``clock.now``, ``reset()``, ``requests()``, ``add_faults``, ``snapshot`` / ``restore``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..config.baseline import Baseline
from ..config.settings import PROVIDER_NAMES, load_settings
from ..core.settings import Settings
from ..server.live import LiveServer
from .harness import Harness


@contextmanager
def running(
    settings: Settings | None = None,
    *,
    config: str | Path | None = None,
    seed: int | None = None,
    clock_speed: float | None = 0.0,
    api_keys: Iterable[str] = (),
    scenario: str | None = None,
    scenarios: Iterable[str | Path] = (),
    fixtures: Iterable[str | Path] = (),
    response_validation: str | None = "strict",
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[Harness]:
    """Start a fake, yield it, stop it. Defaults as in the pytest plugin: the clock is frozen (it moves only by
    ``fake.clock.advance``; ``clock_speed=1`` for real time) and responses are checked against the specs in strict
    mode. ``settings`` (or ``config``, a settings YAML file) is the base the keyword arguments change;
    ``api_keys``: accept only these keys (default: any non-empty key); ``scenarios`` / ``fixtures``: files as
    for ``mockserver serve``; ``port=0`` picks a free port (``fake.url`` says which)."""
    base = settings or (load_settings(config) if config else Settings())
    changes: dict[str, Any] = {}
    if seed is not None:
        changes["seed"] = seed
    if clock_speed is not None:
        changes["clock_speed"] = clock_speed
    if response_validation is not None:
        changes["response_validation"] = response_validation
    keys = tuple(api_keys)
    if keys:
        changes["api_keys"] = {name: keys for name in PROVIDER_NAMES}
    server = LiveServer(base.replace(**changes), host=host, port=port)
    Baseline.load(list(scenarios), list(fixtures), scenario).install(server.engine, server.app.state.providers)
    with server:
        yield Harness(server.engine, server.app.state.providers, server.url, server.app)


__all__ = ["running"]
