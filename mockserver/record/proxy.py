"""The recording proxy: one provider's surface forwarded to an upstream, every exchange written down.

Clients use ``http://HOST:PORT<prefix>`` as their base URL, as with the fake; a request under the prefix goes to
``upstream + <the rest of the path>`` with its headers (keys passed through, never written) and its body as sent.
The answer streams back to the client as it arrives (a file's content, a results stream) and is kept whole for
the cassette. An upstream that cannot be reached, times out or breaks mid-answer gets the proxy's own answer in
the provider's envelope (502, 504), recorded as what happened; the proxy keeps serving.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import httpx
from starlette.types import Message, Receive, Scope, Send

from ..core.errors import BadGateway, GatewayTimeout, MethodNotAllowed, MockError, NotFound, PayloadTooLarge
from ..core.settings import Settings
from ..providers.base import Provider
from ..server.cassette import HOP_BY_HOP, CassetteWriter, Redactor, header
from ..server.limits import MULTIPART_OVERHEAD
from ..spec.loader import load_spec
from ..spec.routing import OperationRouter
from ..spec.validation import compile_operation
from .book import Book

log = logging.getLogger("mockserver")

# headers the proxy never forwards: the connection's own, and Accept-Encoding (the upstream answers in identity,
# so what is recorded is the body itself, byte for byte, and what the client receives is exactly that)
NOT_FORWARDED = HOP_BY_HOP | {"accept-encoding"}
# secret whatever a spec says: Portkey's x-portkey-* headers carry keys and provider credentials
SECRET_PREFIXES = ("x-portkey-",)
STATUS_PATH = "/_record"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RecordingProxy:
    """The ASGI app of ``mockserver record``."""

    def __init__(self, provider: Provider, upstream: str, out: Path, *, timeout: float = 60.0, settings: Settings | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.provider = provider
        self.upstream = upstream.rstrip("/")
        self.settings = settings or Settings()
        self.timeout = timeout
        self.transport = transport
        spec = load_spec(provider.spec_name)
        for operation in spec.operations:
            compile_operation(operation)
        self.router = OperationRouter(spec.operations)
        self.redactor = Redactor.for_spec(spec, SECRET_PREFIXES)
        self.writer = CassetteWriter(out)
        self.book = Book(provider, out, self.redactor, upstream=self.upstream)
        self.client: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), transport=self.transport, follow_redirects=False)
        return self.client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        prefix = self.provider.prefix
        if path == STATUS_PATH:  # the proxy's own: what it records, never forwarded
            await self._status(send)
            return
        if path != prefix and not path.startswith(prefix + "/"):
            await self._send_error(NotFound(f"This proxy records {self.provider.name} under {prefix}; {path} is not under it."), send)
            return
        await self._exchange(scope, receive, send, path[len(prefix):] or "/")

    async def _status(self, send: Send) -> None:
        body = json.dumps({"object": "recording", "provider": self.provider.name, "prefix": self.provider.prefix,
                           "upstream": self.upstream, "out": str(self.writer.folder), "exchanges": self.book.exchanges,
                           "findings": len(self.book.findings)}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None
        self.book.write()

    async def _send_error(self, error: MockError, send: Send) -> tuple[int, list[tuple[str, str]], bytes]:
        response = self.provider.render_error(error)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers]
        await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})
        return response.status_code, headers, bytes(response.body)

    async def _exchange(self, scope: Scope, receive: Receive, send: Send, rest: str) -> None:
        started, clock = _now_iso(), time.perf_counter()
        method = scope["method"]
        query = scope.get("query_string", b"").decode("latin-1")
        request_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
        limit = self.provider.upload_limit(self.settings) + MULTIPART_OVERHEAD
        body = await _body(receive, limit)
        first_byte: float | None = None
        upstream_error: str | None = None
        chunks: list[bytes] = []
        status, broken = 0, False
        headers: list[tuple[str, str]] = []
        if body is None:
            status, headers, sent = await self._send_error(PayloadTooLarge(f"The recorder takes request bodies up to {limit} bytes."), send)
            chunks, body, upstream_error = [sent], b"", "request body too large to record"
        else:
            url = self.upstream + rest + (f"?{query}" if query else "")
            forwarded = [(k, v) for k, v in request_headers if k.lower() not in NOT_FORWARDED]
            started_response = False
            try:
                request = self._client().build_request(method, url, headers=forwarded, content=body)
                upstream = await self._client().send(request, stream=True)
                try:
                    status = upstream.status_code
                    headers = [(k, v) for k, v in upstream.headers.multi_items() if k.lower() not in HOP_BY_HOP]
                    first_byte = time.perf_counter()
                    await send({"type": "http.response.start", "status": status,
                                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]})
                    started_response = True
                    async for chunk in upstream.aiter_raw():
                        chunks.append(chunk)
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    await send({"type": "http.response.body", "body": b""})
                finally:
                    await upstream.aclose()
            except Exception as exc:  # an upstream (or a client) failing is recorded as what happened, never the proxy's end
                upstream_error = f"{type(exc).__name__}: {exc or 'no detail'}"
                if not isinstance(exc, httpx.HTTPError):
                    log.error("record: %s %s: unexpected %s", method, scope["path"], upstream_error, exc_info=True)
                if started_response:  # the answer broke mid-stream: recorded, then the client's connection is cut as well
                    upstream_error = f"the answer broke off after {sum(map(len, chunks))} bytes ({upstream_error})"
                    broken = True
                else:
                    error: MockError = (GatewayTimeout if isinstance(exc, httpx.TimeoutException) else BadGateway)(
                        f"The upstream {self.upstream} did not answer: {upstream_error}")
                    status, headers, sent = await self._send_error(error, send)
                    chunks = [sent]
                log.warning("record: %s %s: %s", method, scope["path"], upstream_error)
        duration = (time.perf_counter() - clock) * 1000
        self._record(scope["path"], rest, method, query, request_headers, body, status, headers, b"".join(chunks), upstream_error,
                     started, duration, None if first_byte is None else (first_byte - clock) * 1000)
        if broken:
            raise UpstreamBrokeOff(upstream_error or "")  # uvicorn then closes the client's connection mid-answer, as the upstream did

    def _record(self, path: str, rest: str, method: str, query: str, request_headers: list[tuple[str, str]], body: bytes,
                status: int, headers: list[tuple[str, str]], answer: bytes, upstream_error: str | None, started: str,
                duration: float, ttfb: float | None) -> None:
        redactor = self.redactor
        safe_request_headers = redactor.redact_headers(request_headers)  # first: the keys are learned here
        try:
            operation, params = self.router.match(method, rest)
        except (NotFound, MethodNotAllowed):
            operation, params = None, {}
        plain = decoded(answer, header(headers, "content-encoding"))  # what the spec and the fixtures read
        problems = self.book.check(operation, rest, method, status, headers, plain, upstream_error)
        entry = {
            "provider": self.provider.name, "operation": operation.operation_id if operation else None,
            "started_at": started, "duration_ms": round(duration, 3), "first_byte_ms": None if ttfb is None else round(ttfb, 3),
            "request": {"method": method, "path": path, "query": redactor.redact_query(query), "headers": safe_request_headers,
                        "body": self.writer.body(redactor.redact_body(body, header(request_headers, "content-type")))},
            "response": {"status": status, "headers": redactor.redact_headers(headers),
                         "body": self.writer.body(redactor.redact_body(answer, header(headers, "content-type")))},
            "upstream_error": upstream_error and redactor.scrub_text(upstream_error),
            "problems": problems,
        }
        seq = self.writer.append(entry)
        if operation is not None and upstream_error is None:
            self.book.observe(operation.operation_id, params, status, body, header(request_headers, "content-type"), plain)
        self.book.note(seq, entry)


def decoded(body: bytes, encoding: str) -> bytes:
    """A body as its ``Content-Encoding`` says it was compressed (gzip, deflate), uncompressed; else as it is. (The
    proxy asks for identity; an upstream that compresses anyway is recorded as sent and read uncompressed.)"""
    encoding = encoding.strip().lower()
    try:
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            return zlib.decompress(body)
    except zlib.error:
        return body
    return body


async def _body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None once it passes ``limit`` (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class UpstreamBrokeOff(Exception):
    """The upstream's answer ended before its end: raised after recording, so the client's answer ends the same way."""
