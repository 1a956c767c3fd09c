"""What a fault sends: its error in the provider's envelope, its delay, or a dropped connection.

The rules (which calls a fault hits) live in ``mockserver.config.faults``.
"""

from __future__ import annotations

import asyncio

import httpx
from starlette.responses import Response
from starlette.types import Receive

from ..config.faults import Fault
from ..core.errors import error_for_status
from ..providers.base import Provider

DEFAULT_RETRY_AFTER = 1.0  # seconds, on a 429 whose fault names none


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised to an in-process client (no socket to close) when a fault drops the connection."""

# -- what a fault sends -----------------------------------------------------------------------------


_MESSAGES = {
    429: "Rate limit reached (simulated by a mock fault); retry after the time in the Retry-After header.",
    500: "The server had an error while processing your request (simulated by a mock fault).",
    502: "Bad gateway (simulated by a mock fault).",
    503: "The service is temporarily unavailable (simulated by a mock fault).",
}


def render(fault: Fault, provider: Provider, now: float) -> Response:
    """The fault's error, in the provider's envelope (its own ``render_error``)."""
    assert fault.status is not None
    headers: dict[str, str] = {}
    retry_after = fault.retry_after if fault.retry_after is not None else (DEFAULT_RETRY_AFTER if fault.status == 429 else None)
    if retry_after is not None:
        headers |= provider.retry_headers(retry_after, now)
    if fault.should_retry is not None:
        headers["x-should-retry"] = "true" if fault.should_retry else "false"
    headers["x-mock-fault"] = fault.id
    return provider.render_error(error_for_status(fault.status, fault.message or _MESSAGES[fault.status], headers=headers))


async def delay(fault: Fault, seed: int) -> None:
    seconds = fault.delay(seed)
    if seconds > 0:
        await asyncio.sleep(seconds)


async def drop_connection(receive: Receive) -> None:
    """Close the client's connection with no response.

    Under uvicorn, ``receive`` is bound to the request cycle, which holds the socket's transport: abort it
    (the client sees the server disconnect without a response) and let uvicorn notice before returning,
    so it neither logs an error nor tries to send a 500. Without a transport (an in-process client through
    ASGITransport) there is no connection to close: raise ConnectionDropped, an httpx transport error.
    """
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        raise ConnectionDropped("Server disconnected without sending a response (dropped by a mock fault).")
    transport.abort()
    await asyncio.sleep(0)
