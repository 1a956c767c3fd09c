"""The recording proxy in a thread on loopback (the upstream: the session's live fake, or none at all)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from mockserver.contract.mutants import serve
from mockserver.providers.registry import PROVIDERS
from mockserver.record import RecordingProxy

KEY = "sk-live-recorded-secret-0123456789"


def threaded(app: Any) -> AbstractContextManager[str]:
    """``app`` served by uvicorn on a free loopback port in a thread, its lifespan run: yields its URL."""
    return serve(app, lifespan="on")


@contextmanager
def recording(upstream: str, out: Path, provider: str = "anyapi", timeout: float = 10.0) -> Iterator[str]:
    """A recording proxy for ``provider`` in front of ``upstream``: yields the base URL a client takes; when it
    ends (the proxy's shutdown) the fixtures and the drift report are final."""
    proxy = RecordingProxy(PROVIDERS[provider], upstream, out, timeout=timeout)
    with threaded(proxy) as url:
        yield url + PROVIDERS[provider].prefix


def written(folder: Path) -> dict[Path, bytes]:
    """Every file the recorder wrote."""
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}
