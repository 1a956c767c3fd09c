"""A real server on a loopback port, in a background thread: the live front door for tests and tools."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from ..core.engine import Engine
from ..core.settings import Settings
from .app import create_app
from .serving import uvicorn_config


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class LiveServer:
    """``with LiveServer() as server: server.base_url("anyapi")``; the engine is shared, no HTTP needed to reset."""

    def __init__(self, settings: Settings | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = create_app(settings or Settings())
        self.engine: Engine = self.app.state.engine
        self.host = host
        self.port = port or free_port(host)
        self._server = uvicorn.Server(uvicorn_config(self.app, self.engine.settings, host, self.port, "warning", lifespan="on"))  # the lifespan ends the webhook dispatcher
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def base_url(self, provider: str) -> str:
        """The URL an SDK takes as ``base_url`` for ``provider``."""
        return self.url + str(self.app.state.providers[provider].prefix)

    def start(self, timeout: float = 10.0) -> LiveServer:
        self._thread = threading.Thread(target=self._server.run, name=f"mockserver:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"mockserver did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
