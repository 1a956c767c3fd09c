"""Waiting for a `mockserver serve` (or any server command) started by a test: one loop for every test."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import httpx


def wait_until_serving(url: str, process: subprocess.Popen[str] | subprocess.Popen[bytes] | None = None, *,
                       timeout: float = 60.0, path: str = "/_mock/health", output: Callable[[], str] = lambda: "") -> None:
    """Poll ``url + path`` until it answers 200. Raises RuntimeError, with ``output()`` (the server's log), when
    ``process`` exits first or ``timeout`` real seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url + path, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        exited = process is not None and process.poll() is not None
        if exited or time.monotonic() > deadline:
            if process is not None and process.poll() is None:
                process.kill()
            reason = f"exited with {process.returncode}" if exited and process is not None else f"did not answer within {timeout:g} s"
            raise RuntimeError(f"{url}: the server {reason}:\n{output()}")
        time.sleep(0.05)
