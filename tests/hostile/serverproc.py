"""A real ``mockserver serve`` in a subprocess on a free loopback port, for tests that need a process of their own
(timeouts on real sockets, SIGTERM, the server's memory)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from mockserver.server.live import free_port
from tests.processes import wait_until_serving


class ServerProcess:
    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self.proc = proc
        self.port = port

    def connect(self, timeout: float = 10.0) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def http(self, timeout: float = 10.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def status(self) -> dict[str, int]:
        """VmRSS and VmHWM (peak RSS) of the server, in KiB."""
        out = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    name, value = line.split(":")
                    out[name] = int(value.split()[0])
        return out

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)


@contextmanager
def serve(*flags: str, timeout: float = 20.0) -> Iterator[ServerProcess]:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("MOCKSERVER_ADMIN_TOKEN", None)
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *flags],
        stdout=subprocess.DEVNULL, stderr=log, env=env,
    )
    server = ServerProcess(proc, port)
    try:
        def output() -> str:
            log.seek(0)
            return log.read().decode(errors="replace")

        wait_until_serving(f"http://127.0.0.1:{port}", proc, timeout=timeout, output=output)
        yield server
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        log.close()
