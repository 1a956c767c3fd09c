"""A strict live server with a frozen clock for the FormantAI tests, and an httpx client (no SDK exists)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver.core.settings import Settings
from mockserver.server.live import LiveServer

FORMANT_SETTINGS = Settings(response_validation="strict", clock_speed=0.0)


@pytest.fixture(scope="session")
def formant_live() -> Iterator[LiveServer]:
    with LiveServer(FORMANT_SETTINGS) as server:
        yield server


@pytest.fixture
def server(formant_live: LiveServer) -> Iterator[LiveServer]:
    """The live server, emptied; the test fails if any response broke specs/formant.yaml."""
    engine = formant_live.engine
    engine.reset()
    yield formant_live
    engine.scenarios.replace_all({}, None)
    engine.scenarios.default = None
    assert list(engine.violations) == [], list(engine.violations)


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url("formant"), headers={"Authorization": "Bearer test-key"}) as http:
        yield http

