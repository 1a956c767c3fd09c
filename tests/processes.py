"""A `mockserver serve` (or any server command) started by a test, and the one loop that waits for it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from mockserver.server.live import free_port


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


@contextmanager
def serving(*args: str, env: dict[str, str] | None = None, log_level: str = "warning") -> Iterator[str]:
    """``mockserver serve *args`` on a free loopback port in its own process: yields its URL once it answers,
    stops it at the end."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--log-level", log_level, *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc, output=lambda: proc.stdout.read() if proc.stdout else "")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stdout:
            proc.stdout.close()
