"""The recording proxy in a thread on loopback (the upstream: the session's live fake, or none at all)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from mockserver.providers.registry import PROVIDERS
from mockserver.record import RecordingProxy
from mockserver.server.live import free_port

KEY = "sk-live-recorded-secret-0123456789"


@contextmanager
def threaded(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port in a thread: yields its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the proxy did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


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
