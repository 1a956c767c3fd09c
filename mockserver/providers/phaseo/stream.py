"""Phaseo's batch lifecycle stream, ``/v1/async/batch/{id}/ws`` (docs.ai-stats.phaseo.app
/api-reference/endpoint/async-jobs-ws): ``job.snapshot`` on connect, ``job.updated`` when the batch changes,
``job.deleted`` if it disappears, ``pong`` to a ``ping``; closed after a terminal update unless
``close_on_terminal=false``. Driven by the batch's event moments (the same projection its webhooks use): the
socket wakes at the next moment on the simulated clock, at every clock change, and every ``interval_ms``.

Choices: the ``data`` payload is the batch's lifecycle summary (id, status, lifecycle_status, progress,
request_counts, file ids, sanitized webhook), not the whole batch object; a refused handshake answers the
provider's error envelope with its status (404 for a batch of another key) where the server supports denial
responses, else closes with 1008.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from ...core.errors import InvalidRequest, MockError, NotFound, NotImplementedYet
from ..base import StreamContext
from ..openai_family.lifecycle import TERMINAL
from ..openai_family.models import Batch
from ..openai_family.webhooks import progress_points, projected_moments

DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS, MAX_INTERVAL_MS = 2_500, 1_000, 10_000


def _options(query: Any) -> tuple[float, bool]:
    raw = query.get("interval_ms")
    interval = DEFAULT_INTERVAL_MS
    if raw is not None:
        if not raw.isdigit() or not MIN_INTERVAL_MS <= int(raw) <= MAX_INTERVAL_MS:
            raise InvalidRequest(f"interval_ms must be an integer from {MIN_INTERVAL_MS} to {MAX_INTERVAL_MS}, got {raw!r}.", param="interval_ms")
        interval = int(raw)
    close = query.get("close_on_terminal", "true").lower()
    if close not in ("true", "false"):
        raise InvalidRequest(f"close_on_terminal must be true or false, got {close!r}.", param="close_on_terminal")
    return interval / 1000, close == "true"


def next_moment(batch: Batch, now: float) -> float | None:
    """The next moment something is announced about the batch (a state, a progress bucket), after ``now``."""
    moments = projected_moments(batch)
    later = [m for m in (*moments.values(), *(at for at, _ in progress_points(batch, moments))) if m > now]
    return min(later) if later else None


def payload(batch: Batch, now: float, lifecycle_status: dict[str, str]) -> dict[str, Any]:
    counts = batch.request_counts(now)
    done = counts["completed"] + counts["failed"]
    data: dict[str, Any] = {
        "id": batch.id,
        "kind": "batch",
        "object": "batch",
        "status": batch.state,
        "lifecycle_status": lifecycle_status.get(batch.state, batch.state),
        "progress": 100 if batch.state == "completed" else (round(100 * done / counts["total"]) if counts["total"] else 0),
        "request_counts": counts,
        "request_id": batch.extra.get("request_id"),
        "output_file_id": batch.output_file_id,
        "error_file_id": batch.error_file_id,
    }
    webhook = batch.extra.get("webhook")
    if isinstance(webhook, dict):
        data["webhook"] = {"url": webhook.get("url"), "events": webhook.get("events") or []}
    return data


async def _deny(websocket: WebSocket, error: MockError, render: Any) -> None:
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(render(error))
    else:
        await websocket.close(code=1008, reason=error.message[:120])


def batch_stream(lifecycle_status: dict[str, str]):  # type: ignore[no-untyped-def]
    async def stream(websocket: WebSocket, ctx: StreamContext) -> None:
        engine, provider = ctx.engine, ctx.provider
        batch_id = ctx.path_params["batch_id"]
        try:
            if engine.settings.phaseo_mode == "not_implemented":
                raise NotImplementedYet("Not implemented yet")
            namespace = provider.authenticate(websocket.headers, engine.settings)
            interval, close_on_terminal = _options(websocket.query_params)
            backend = engine.backend(provider.name, namespace)
            try:
                batch = backend.retrieve_batch(batch_id)
            except NotFound:
                raise NotFound(f"async_job_not_found_or_not_owned: no batch {batch_id!r} for this key.", param="batch_id") from None
        except MockError as error:
            await _deny(websocket, error, provider.render_error)
            return
        await websocket.accept()
        last = payload(batch, engine.now(), lifecycle_status)
        await websocket.send_json({"type": "job.snapshot", "data": last})
        reader: asyncio.Future[str] = asyncio.ensure_future(websocket.receive_text())
        try:
            while not (close_on_terminal and batch.state in TERMINAL):
                now = engine.now()
                upcoming, speed = next_moment(batch, now), engine.clock.speed
                wait = interval if upcoming is None or speed <= 0 else min(interval, (upcoming - now) / speed + 0.005)
                waiter: asyncio.Future[Any] = asyncio.ensure_future(ctx.wait(wait))
                done, _ = await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if reader in done:
                    message = reader.result()  # WebSocketDisconnect ends the stream
                    if message.strip() == "ping" or _is_ping(message):
                        await websocket.send_json({"type": "pong"})
                    reader = asyncio.ensure_future(websocket.receive_text())
                alive = any(b is backend for _, _, b in engine.store.namespaces(provider.name))
                if not alive or backend.batches.get(batch_id) is not batch:  # a reset (or a restore, which replaces every object) dropped it
                    await websocket.send_json({"type": "job.deleted", "data": {"id": batch_id, "kind": "batch"}})
                    break
                backend.retrieve_batch(batch_id)  # a read, as a poll would be: the lifecycle catches up
                current = payload(batch, engine.now(), lifecycle_status)
                if current != last:
                    await websocket.send_json({"type": "job.updated", "data": current})
                    last = current
            await websocket.close(code=1000)
        except WebSocketDisconnect:
            pass
        finally:
            reader.cancel()

    return stream


def _is_ping(message: str) -> bool:
    try:
        data = json.loads(message)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("type") == "ping"


__all__ = ["batch_stream", "next_moment", "payload"]
