"""How the HTTP server is run (issue 12): header and body read timeouts, keep-alive and connection limits, and
a bounded graceful shutdown, all from ``Settings.timeouts``; one place for the CLI and the live server."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import sys
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..core.settings import Settings

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback"})
# the header read timeout reaches the protocol classes (module-level, so ``--workers`` can spawn them) this way
HEADER_TIMEOUT_ENV = "MOCKSERVER_HEADER_TIMEOUT"


def _header_timeout() -> float:
    try:
        return float(os.environ.get(HEADER_TIMEOUT_ENV, "10"))
    except ValueError:
        return 10.0


class HeaderTimeout:
    """Mixed into uvicorn's protocols: a header read timeout, and TCP_NODELAY on every connection.

    A connection that has not sent a complete request line and headers ``header_timeout`` seconds after it
    opened (or after its last response) is closed. (uvicorn's own ``timeout_keep_alive`` only runs between
    requests and is reset by every byte received, so a client trickling one header byte at a time would
    otherwise hold the connection forever.) ``waiting_for_headers`` is the one thing each parser answers.

    TCP_NODELAY: ``serve`` hands uvicorn its socket by file descriptor, which uvicorn reopens as a Unix socket,
    so the event loop does not set TCP_NODELAY on the connections it accepts; a response written in two parts
    (headers, then body) then waits for the client's delayed ACK: 40 ms added to every small request."""

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    logger: Any
    cycle: Any

    @property
    def header_timeout(self) -> float:
        return _header_timeout()

    def waiting_for_headers(self) -> bool:
        return self.cycle is None or bool(self.cycle.response_complete)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except (OSError, AttributeError):  # not a TCP connection (a Unix socket)
                pass
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_timed_out)

    def _cancel_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if self.waiting_for_headers() and not self.transport.is_closing():
            self.logger.info("closing a connection that sent no complete request headers in %gs", self.header_timeout)
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self.transport.is_closing():
            self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)  # type: ignore[misc]


class HeaderTimeoutH11Protocol(HeaderTimeout, H11Protocol):
    """uvicorn's h11 protocol plus the header read timeout (``HeaderTimeout``)."""

    def waiting_for_headers(self) -> bool:
        return self.conn.their_state is h11.IDLE and super().waiting_for_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._cancel_header_timer()


try:  # uvicorn[standard]: the httptools parser, the fast one
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    HAS_HTTPTOOLS = True
except ImportError:  # pragma: no cover - uvicorn without its [standard] extra
    HAS_HTTPTOOLS = False


if HAS_HTTPTOOLS:

    class HeaderTimeoutHttpToolsProtocol(HeaderTimeout, HttpToolsProtocol):
        """uvicorn's httptools protocol plus the same header read timeout (``HeaderTimeout``)."""

        def on_headers_complete(self) -> None:
            self._cancel_header_timer()
            super().on_headers_complete()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's keyword arguments for ``Settings.timeouts`` (for ``uvicorn.run`` and ``uvicorn.Config``)."""
    t = settings.timeouts
    os.environ[HEADER_TIMEOUT_ENV] = repr(t.header_read)
    return {
        "http": HeaderTimeoutHttpToolsProtocol if HAS_HTTPTOOLS else HeaderTimeoutH11Protocol,
        "timeout_keep_alive": t.keep_alive,  # uvicorn takes seconds; a float works
        "timeout_graceful_shutdown": t.graceful_shutdown,
        "limit_concurrency": t.max_connections,
        "h11_max_incomplete_event_size": t.max_header_bytes,
    }


def uvicorn_config(app: Any, settings: Settings, host: str, port: int, log_level: str = "info", **extra: Any) -> uvicorn.Config:
    """The uvicorn config the fake runs with."""
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, **uvicorn_options(settings), **extra)


SWITCH_INTERVAL = 0.0005  # seconds; CPython's default is 0.005


def prefer_the_event_loop() -> None:
    """Let the event loop take the GIL back sooner from a worker thread validating a big upload: with the
    default 5 ms switch interval each of the few GIL hand-overs a small request needs can cost 5 ms."""
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(settings: Settings, host: str) -> str | None:
    """The loud warning printed when the fake listens beyond this machine with its admin API open."""
    if is_loopback(host) or settings.admin_token:
        return None
    bar = "!" * 78
    return (
        f"{bar}\n"
        f"!! WARNING: mockserver listens on {host}, which other machines can reach, and its admin API (/_mock) is\n"
        f"!! OPEN: anyone who reaches the port can reset all state, inject faults into other keys' calls and read\n"
        f"!! the request journal. Pass --admin-token TOKEN (or set MOCKSERVER_ADMIN_TOKEN), or bind 127.0.0.1.\n"
        f"{bar}"
    )
