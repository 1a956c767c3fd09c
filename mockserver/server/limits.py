"""Request bodies read under a budget (issue 12): a size limit enforced while the body streams in (nothing past
the limit is ever read, so memory cannot grow past it) and a read timeout between two chunks."""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers
from starlette.types import Message, Receive

from ..core.errors import PayloadTooLarge, RequestTimeout

MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and the small form fields around an upload


class BodyBudget:
    """An ASGI ``receive`` that counts body bytes: 413 as soon as they pass ``limit``, 408 when the client
    sends nothing for ``idle_timeout`` seconds. ``limit`` may be narrowed once the operation is known."""

    def __init__(self, receive: Receive, limit: int, idle_timeout: float | None) -> None:
        self._receive = receive
        self.limit = limit
        self.idle_timeout = idle_timeout
        self.read = 0
        self.what = "request body"

    def expect(self, limit: int, what: str) -> None:
        self.limit, self.what = limit, what

    def check_declared(self, headers: Headers) -> int | None:
        """The declared Content-Length, refused at once (before a byte of the body is read) if over the limit."""
        raw = headers.get("content-length")
        if raw is None or not raw.strip().isdigit():
            return None
        declared = int(raw)
        if declared > self.limit:
            raise self._too_large(declared)
        return declared

    def _too_large(self, size: int | None = None) -> PayloadTooLarge:
        got = f"{size} bytes" if size is not None else f"more than {self.limit} bytes"
        return PayloadTooLarge(f"The {self.what} is too large: {got}; the limit is {self.limit} bytes.", code="payload_too_large")

    async def __call__(self) -> Message:
        if self.idle_timeout is None:
            message = await self._receive()
        else:
            try:
                message = await asyncio.wait_for(self._receive(), self.idle_timeout)
            except TimeoutError:
                raise RequestTimeout(
                    f"The client sent no part of the request body for {self.idle_timeout:g} seconds; the request was abandoned.",
                    code="request_timeout",
                ) from None
        if message["type"] == "http.request":
            self.read += len(message.get("body", b""))
            if self.read > self.limit:
                raise self._too_large()
        return message
