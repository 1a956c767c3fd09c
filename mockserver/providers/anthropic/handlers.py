"""HTTP for Anthropic Message Batches: parse, call one backend verb, serialise (RFC 3339 times, results as JSONL)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ...core import timefmt
from ..base import Call, Handler, json_response, off_loop
from .models import AnthropicBackend, MessageBatch, results_jsonl
from .scenarios import plan_for


def iso(seconds: float | None) -> str | None:
    """Anthropic's timestamps: RFC 3339, microseconds, ``Z`` (``2024-08-20T18:37:24.100435Z``)."""
    return timefmt.iso_or_none(seconds, "Z", "microseconds")


def batch_json(call: Call, batch: MessageBatch) -> dict[str, Any]:
    ended = batch.ended_at
    base = str(call.request.base_url).rstrip("/")  # the results URL is absolute, as Anthropic's
    return {
        "id": batch.id,
        "type": "message_batch",
        "processing_status": batch.state,
        "request_counts": batch.request_counts(),
        "ended_at": iso(ended),
        "created_at": iso(batch.created),
        "expires_at": iso(batch.expires_at),
        "archived_at": iso(batch.archived_at(call.engine.now())),
        "cancel_initiated_at": iso(batch.cancel_initiated_at),
        "results_url": f"{base}/v1/messages/batches/{batch.id}/results" if ended is not None else None,
    }


async def create_message_batch(call: Call) -> Response:
    backend: AnthropicBackend = call.backend
    batch = backend.create_message_batch(call.body["requests"], call.plan(plan_for), size=call.body_bytes)
    return json_response(batch_json(call, batch))


async def retrieve_message_batch(call: Call) -> Response:
    return json_response(batch_json(call, call.backend.retrieve_message_batch(call.path_params["message_batch_id"])))


async def list_message_batches(call: Call) -> Response:
    batches, has_more = call.backend.list_message_batches(
        before_id=call.query("before_id"), after_id=call.query("after_id"), limit=call.query("limit", 20)
    )
    data = [batch_json(call, b) for b in batches]
    return json_response({"data": data, "has_more": has_more, "first_id": data[0]["id"] if data else None, "last_id": data[-1]["id"] if data else None})


async def cancel_message_batch(call: Call) -> Response:
    return json_response(batch_json(call, call.backend.cancel_message_batch(call.path_params["message_batch_id"])))


async def delete_message_batch(call: Call) -> Response:
    batch = call.backend.delete_message_batch(call.path_params["message_batch_id"])
    return json_response({"id": batch.id, "type": "message_batch_deleted"})


async def retrieve_message_batch_results(call: Call) -> Response:
    batch = call.backend.retrieve_message_batch_results(call.path_params["message_batch_id"])
    content = await off_loop(len(batch.requests) * 200, results_jsonl, batch)
    return Response(content, media_type="application/x-jsonl")


HANDLERS: dict[str, Handler] = {
    "createMessageBatch": create_message_batch,
    "retrieveMessageBatch": retrieve_message_batch,
    "listMessageBatches": list_message_batches,
    "cancelMessageBatch": cancel_message_batch,
    "deleteMessageBatch": delete_message_batch,
    "retrieveMessageBatchResults": retrieve_message_batch_results,
}
