"""A webhook receiver for tests: a loopback HTTP server that records every request and can answer an error a
given number of times (to exercise retries).

    with WebhookReceiver() as receiver:
        ...  # point a webhook at receiver.url
        receiver.fail(2, status=500)  # the next two requests get a 500
        [hit] = receiver.wait_for(1)
        hit.json()["type"], hit.headers["webhook-id"], hit.body
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes  # the raw body: verify signatures against this
    at: float  # wall-clock time it arrived
    answered: int  # the status the receiver answered

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Plan:
    failures: int = 0
    status: int = 500
    delay: float = 0.0
    log: list[Received] = field(default_factory=list)


class WebhookReceiver:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, path: str = "/webhook") -> None:
        self._lock = threading.Condition()
        self._plan = _Plan()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                status, delay = receiver._answer()
                if delay:
                    time.sleep(delay)
                hit = Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time(), status)
                with receiver._lock:
                    receiver._plan.log.append(hit)
                    receiver._lock.notify_all()
                payload = b'{"received":true}' if status < 300 else b'{"error":"simulated failure"}'
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.path = path

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"

    def _answer(self) -> tuple[int, float]:
        with self._lock:
            if self._plan.failures > 0:
                self._plan.failures -= 1
                return self._plan.status, self._plan.delay
            return 200, 0.0

    def fail(self, times: int, status: int = 500, delay: float = 0.0) -> None:
        """Answer ``status`` (after ``delay`` real seconds) to the next ``times`` requests, then 200 again."""
        with self._lock:
            self._plan.failures, self._plan.status, self._plan.delay = times, status, delay

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._plan.log)

    def clear(self) -> None:
        with self._lock:
            self._plan = _Plan()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Block until ``count`` requests have arrived (AssertionError after ``timeout`` real seconds)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._plan.log) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"webhook receiver: {len(self._plan.log)} request(s) arrived within {timeout:g} s, expected {count}")
                self._lock.wait(left)
            return list(self._plan.log)

    def start(self) -> WebhookReceiver:
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


__all__ = ["Received", "WebhookReceiver"]
