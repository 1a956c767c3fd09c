"""The admin API's calls, each in one transaction of the durable state (a pass-through in memory).

The answer is held until the transaction commits, so a 2xx means the change is stored. The request body is
read first, so a read that turns out to write can be run again.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.store import Store

READS = ("GET", "HEAD", "OPTIONS")


class Atomic:
    def __init__(self, app: ASGIApp, store: Store[Any]) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.store.durable:
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body"):
                break

        async def replay() -> Message:
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        async def attempt() -> list[Message]:
            sent: list[Message] = []

            async def hold(message: Message) -> None:
                sent.append(message)

            await self.app(scope, replay, hold)
            return sent

        def status(messages: list[Message]) -> int:
            return next((int(m["status"]) for m in messages if m["type"] == "http.response.start"), 500)

        await self.store.refresh()
        messages = await self.store.atomically(attempt, scope["method"] not in READS, lambda sent: status(sent) < 400)
        for message in messages:
            await send(message)
