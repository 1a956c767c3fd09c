"""Helpers for the kit's own tests: a fake on loopback that accepts one key, for URL-mode runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockserver.core.settings import Settings
from mockserver.server.live import LiveServer

KEY = "sk-kit-tests-0123456789"


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    """One fake per module, every provider accepting only KEY, clock at 20x so lifecycles end while polled."""
    settings = Settings(api_keys={p: (KEY,) for p in ("anyapi", "portkey", "phaseo", "retell", "formant")}, clock_speed=20.0)
    with LiveServer(settings) as server:
        yield server
