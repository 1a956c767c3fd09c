"""A strict live server with a frozen clock for the Retell tests: time moves only when a test advances it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from retell import Retell

from mockserver.core.settings import Settings
from mockserver.server.live import LiveServer

RETELL_SETTINGS = Settings(response_validation="strict", clock_speed=0.0)


@pytest.fixture(scope="session")
def retell_live() -> Iterator[LiveServer]:
    with LiveServer(RETELL_SETTINGS) as server:
        yield server


@pytest.fixture
def server(retell_live: LiveServer) -> Iterator[LiveServer]:
    """The live server, emptied; the test fails if any response broke specs/retell.yaml."""
    engine = retell_live.engine
    engine.reset()
    yield retell_live
    engine.scenarios.replace_all({}, None)
    engine.scenarios.default = None
    assert list(engine.violations) == [], list(engine.violations)


@pytest.fixture
def client(server: LiveServer) -> Retell:
    """The official SDK, unmodified, pointed at the fake (no retries: a failure shows at once)."""
    return Retell(api_key="test-key", base_url=server.base_url("retell"), max_retries=0)
