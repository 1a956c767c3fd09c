"""What Phaseo changes of openai_family's shared handlers: the extra request fields it keeps, its ``?status=``
filter, and the extended batch object (the ``Dialect`` hooks); every operation uses a shared handler."""

from __future__ import annotations

from typing import Any

from ...core.errors import InvalidRequest
from ...core.registries import resolve_scenario
from ...core.timefmt import iso_or_none
from ..base import Call, Handler
from ..openai_family.handlers import handlers_for
from ..openai_family.models import Batch
from ..openai_family.scenarios import BUILTIN
from .webhooks import public_state

# ?status= aliases (/endpoint/batches-list) -> internal OpenAI states
STATUS_ALIASES = {
    "pending": {"validating"}, "queued": {"validating"}, "validating": {"validating"},
    "in_progress": {"in_progress", "finalizing"}, "running": {"in_progress", "finalizing"},
    "processing": {"in_progress", "finalizing"}, "finalizing": {"finalizing"},
    "completed": {"completed"}, "failed": {"failed"},
    "cancelled": {"cancelling", "cancelled"}, "canceled": {"cancelling", "cancelled"}, "cancelling": {"cancelling"},
    "expired": {"expired"},
}

LIFECYCLE_STATUS = {
    "validating": "pending", "in_progress": "running", "finalizing": "running", "completed": "completed",
    "failed": "failed", "cancelling": "running", "cancelled": "cancelled", "expired": "expired",
}

# `status` as Phaseo's docs word it: "Common lifecycle states include queued, processing, completed, failed,
# cancelled, and expired" (seed 004, /endpoint/batches-status); cancelling has no documented word and keeps
# the upstream's. settings.phaseo_status "upstream" sends the OpenAI words instead; a batch created with the
# metadata key mock_phaseo_status ("documented" | "upstream") keeps its own choice.
DOCUMENTED_STATUS = {
    "validating": "queued", "in_progress": "processing", "finalizing": "processing", "completed": "completed",
    "failed": "failed", "cancelling": "cancelling", "cancelled": "cancelled", "expired": "expired",
}

NANOS_PER_INPUT_TOKEN, NANOS_PER_OUTPUT_TOKEN = 75, 300  # a mock price: $0.075 / $0.30 per million tokens


def normalise_endpoint(endpoint: str) -> str:
    return endpoint if endpoint.startswith("/") else "/v1/" + endpoint


STATUS_WORDS = ("documented", "upstream")


def status_words(call: Call) -> str | None:
    """This batch's status words: metadata ``mock_phaseo_status``, else its scenario's ``phaseo_status``, else
    None (the server's ``phaseo_status``)."""
    metadata = call.body.get("metadata") or {}
    words = metadata.get("mock_phaseo_status")
    if words is not None:
        if words not in STATUS_WORDS:
            raise InvalidRequest(f"metadata.mock_phaseo_status must be one of: {', '.join(STATUS_WORDS)}.", param="metadata.mock_phaseo_status")
        return str(words)
    name, explicit = call.scenario(metadata.get("mock_scenario"))
    _, scenario = resolve_scenario(name, call.engine.scenarios, BUILTIN, explicit, param="metadata.mock_scenario")
    found = scenario.get("phaseo_status")
    return str(found) if found in STATUS_WORDS else None


def create_extras(call: Call) -> dict[str, Any]:
    body = call.body
    words = status_words(call)
    extras: dict[str, Any] = {
        "request_id": call.request_id,
        "native_batch_id": call.engine.ids.new("batch_"),
        "endpoint_as_given": body["endpoint"],  # echoed as sent: the docs' example answers "responses" to "responses"
    }
    if body.get("session_id") is not None:
        extras["session_id"] = body["session_id"]
    if body.get("webhook"):
        extras["webhook"] = dict(body["webhook"])
    if words is not None:
        extras["status_words"] = words  # this batch's status words, whatever the server's phaseo_status
    return extras


def status_filter(call: Call) -> set[str] | None:
    """?status= and ?statuses=, each repeatable or comma-separated, merged (/endpoint/batches-list)."""
    raw = [*(call.query("status") or []), *(call.query("statuses") or [])]
    if not raw:
        return None
    wanted: set[str] = set()
    for value in raw:
        for name in str(value).split(","):
            name = name.strip().lower()
            if name not in STATUS_ALIASES:
                raise InvalidRequest(f"Unknown status filter {name!r}; use one of: {', '.join(sorted(STATUS_ALIASES))}.", param="status")
            wanted |= STATUS_ALIASES[name]
    return wanted


def batch_additions(call: Call, batch: Batch, data: dict[str, Any]) -> dict[str, Any]:
    base = str(call.request.base_url).rstrip("/")  # already ends with the provider's prefix (the mount's root path)
    counts = data["request_counts"]
    terminal_at = next((batch.moments[s] for s in ("completed", "failed", "expired", "cancelled") if s in batch.moments), None)
    usage = batch.usage or {}
    cost = usage.get("input_tokens", 0) * NANOS_PER_INPUT_TOKEN + usage.get("output_tokens", 0) * NANOS_PER_OUTPUT_TOKEN
    webhook = batch.extra.get("webhook")
    if batch.extra.get("endpoint_as_given"):
        data["endpoint"] = batch.extra["endpoint_as_given"]
    if batch.extra.get("status_words", call.engine.settings.phaseo_status) == "documented":
        data["status"] = DOCUMENTED_STATUS[batch.state]
    data.update(
        request_id=batch.extra.get("request_id"),
        provider="openai",
        session_id=batch.extra.get("session_id"),
        native_batch_id=batch.extra.get("native_batch_id"),
        lifecycle_status=LIFECYCLE_STATUS[batch.state],
        progress=100 if batch.state == "completed" else (round(100 * (counts["completed"] + counts["failed"]) / counts["total"]) if counts["total"] else 0),
        polling_url=f"{base}/batches/{batch.id}",
        websocket_url=f"{base.replace('http', 'ws', 1)}/async/batch/{batch.id}/ws",
        cancel_url=f"{base}/batches/{batch.id}/cancel",
        pricing_lines=[]
        if not usage
        else [
            {"dimension": "input_tokens", "quantity": usage.get("input_tokens", 0), "unit_price_nanos": NANOS_PER_INPUT_TOKEN},
            {"dimension": "output_tokens", "quantity": usage.get("output_tokens", 0), "unit_price_nanos": NANOS_PER_OUTPUT_TOKEN},
        ],
        billing={
            "billed": terminal_at is not None,
            "charged": terminal_at is not None and cost > 0,
            "reason": "finalized" if terminal_at is not None else "pending",
            "cost_nanos": cost,
            "cost_usd": cost / 1e9,
            "pricing_breakdown": {"input_tokens": usage.get("input_tokens", 0), "output_tokens": usage.get("output_tokens", 0)},
            "reservation_status": "released" if terminal_at is not None else "reserved",
        },
    )
    if terminal_at is not None:
        data["billing"]["finalized_at"] = iso_or_none(terminal_at)
    if data["session_id"] is None:
        del data["session_id"]  # Phaseo-only fields are left out, not null, when unset
    if webhook:
        data["webhook"] = public_state(call.engine.outbox, call.namespace, batch, webhook)  # never the secret
    return data


HANDLERS: dict[str, Handler] = handlers_for(
    "createFile", "listFiles", "retrieveFile", "downloadFile", "createBatch", "listBatches", "retrieveBatch", "cancelBatch"
)
