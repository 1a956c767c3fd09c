"""``mockserver serve --replay CASSETTE``: recorded exchanges answered exactly, before the simulation sees them.

A request under a provider's prefix is matched by method, path, query and normalised body (``cassette.match_key``).
Identical requests recorded several times (a batch polled until it finished) are answered in the order they were
recorded, the last one again once they run out. What no exchange matches goes on to the simulation, or, with
``strict``, gets a 404 in the provider's own envelope. Every replayed answer carries ``X-Mock-Replay: <seq>`` and is
journaled with ``source: "replay:<seq>"`` (a strict 404: ``"replay:none"``); ``GET /_mock/replay`` shows the cassette and what it answered.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.engine import Engine
from ..core.errors import MethodNotAllowed, MockError, NotFound
from ..core.registries import JournalEntry
from ..providers.base import Provider
from ..spec.loader import load_spec
from ..spec.routing import OperationRouter
from .cassette import HOP_BY_HOP, Recorded, Redactor, header, load_cassette, match_key

REPLAY_HEADER = "X-Mock-Replay"
STRICT_MISS = "replay:none"  # the journal's source of a --replay-strict 404: no recorded exchange matched
# a request body this much larger than the largest recorded one cannot match (multipart boundaries differ in length)
BODY_SLACK = 4096


@dataclass
class Answered:
    seq: int
    method: str
    path: str
    status: int
    at: float


@dataclass
class ReplayState:
    """The cassette and what replay did with it (``GET /_mock/replay``)."""

    cassette: str
    strict: bool
    exchanges: list[Recorded]
    queues: dict[str, list[Recorded]] = field(default_factory=dict)
    used: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    answered: list[Answered] = field(default_factory=list)
    missed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, key: str) -> Recorded | None:
        with self.lock:
            queue = self.queues.get(key)
            if not queue:
                return None
            index = self.used[key]
            self.used[key] = index + 1
            return queue[min(index, len(queue) - 1)]

    def as_dict(self, limit: int = 1000) -> dict[str, Any]:
        with self.lock:
            answered = self.answered[-limit:]
            return {
                "object": "replay", "cassette": self.cassette, "strict": self.strict, "exchanges": len(self.exchanges),
                "answered": len(self.answered), "missed": self.missed,
                "unused": sum(1 for key, queue in self.queues.items() if self.used.get(key, 0) < len(queue)),
                "data": [a.__dict__ for a in answered],
            }


class Replayer:
    """A cassette read and indexed (at start-up: a bad cassette fails there), and the answers it gives."""

    def __init__(self, cassette: str | Path, providers: dict[str, Provider], engine: Engine, strict: bool = False) -> None:
        self.engine = engine
        self.providers = sorted(providers.values(), key=lambda p: -len(p.prefix))
        self.redactors = {p.name: Redactor.for_spec(load_spec(p.spec_name)) for p in providers.values()}
        self.routers = {p.name: OperationRouter(load_spec(p.spec_name).operations) for p in providers.values()}
        exchanges = load_cassette(cassette)
        self.max_body = max((len(r.request_body) for r in exchanges), default=0) + BODY_SLACK
        self.state = ReplayState(str(cassette), strict, exchanges)
        for recorded in exchanges:
            redactor = self.redactors.get(recorded.provider, Redactor())
            key = match_key(recorded.method, recorded.path, recorded.query, recorded.request_body,
                            header(recorded.request_headers, "content-type"), redactor)
            self.state.queues.setdefault(key, []).append(recorded)

    def _provider(self, path: str) -> Provider | None:
        return next((p for p in self.providers if path == p.prefix or path.startswith(p.prefix + "/")), None)

    async def __call__(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        provider = self._provider(scope["path"]) if scope["type"] == "http" else None
        if provider is None:
            await app(scope, receive, send)
            return
        body, messages = await _read(receive, self.max_body, self.engine.settings.timeouts.body_read)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
        query = scope.get("query_string", b"").decode("latin-1")
        recorded = None
        if body is not None:
            key = match_key(scope["method"], scope["path"], query, body, header(headers, "content-type"), self.redactors[provider.name])
            recorded = self.state.take(key)
        if recorded is not None:
            await self._answer(recorded, provider, scope, send)
            return
        with self.state.lock:
            self.state.missed += 1
        if self.state.strict:
            error: MockError = NotFound(f"No recorded exchange matches {scope['method']} {scope['path']} (mockserver serve --replay-strict).")
            response = provider.render_error(error)
            await response(scope, receive, send)
            self._journal(provider, scope, response.status_code, STRICT_MISS)
            return
        await app(scope, _replaying(messages, receive), send)

    async def _answer(self, recorded: Recorded, provider: Provider, scope: Scope, send: Send) -> None:
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in recorded.headers if k.lower() not in HOP_BY_HOP]
        headers += [(b"content-length", str(len(recorded.body)).encode()), (REPLAY_HEADER.lower().encode(), str(recorded.seq).encode())]
        await send({"type": "http.response.start", "status": recorded.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else recorded.body})
        with self.state.lock:
            self.state.answered.append(Answered(recorded.seq, scope["method"], scope["path"], recorded.status, self.engine.now()))
        self._journal(provider, scope, recorded.status, f"replay:{recorded.seq}")

    def _journal(self, provider: Provider, scope: Scope, status: int, source: str) -> None:
        path = scope["path"][len(provider.prefix):] or "/"
        try:
            operation: str | None = self.routers[provider.name].match(scope["method"], path)[0].operation_id
        except (NotFound, MethodNotAllowed):
            operation = None
        self.engine.record(JournalEntry(
            at=self.engine.now(), provider=provider.name, operation=operation, method=scope["method"], path=path,
            query=scope.get("query_string", b"").decode("latin-1"), status=status, namespace=None, source=source,
        ))


class Replay:
    """The ASGI middleware in front of the providers (``create_app(replay=...)``)."""

    def __init__(self, app: ASGIApp, replayer: Replayer) -> None:
        self.app = app
        self.replayer = replayer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.replayer(self.app, scope, receive, send)


async def _read(receive: Receive, limit: int, pause: float) -> tuple[bytes | None, list[Message]]:
    """The whole request body (None once it passes ``limit``, as no recorded request is that large, or when the
    client pauses longer than ``pause`` seconds) and the messages read, to hand on unchanged: the rest of the body
    streams on to the simulation, under its own limits and timeouts."""
    messages: list[Message] = []
    size = 0
    chunks = []
    while True:
        try:
            async with asyncio.timeout(pause):
                message = await receive()
        except TimeoutError:
            return None, messages
        messages.append(message)
        if message["type"] != "http.request":
            return None, messages
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None, messages
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), messages


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def again() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return again
