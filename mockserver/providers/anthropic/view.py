"""What the dashboard shows of a Message Batch: a row, and a detail with its requests and their result types."""

from __future__ import annotations

from typing import Any

from ...core.timeline import planned, timeline
from .lifecycle import BATCH_LIFECYCLE
from .models import AnthropicBackend, MessageBatch

MAX_ITEMS = 200  # requests listed in a batch's detail


def _row(batch: MessageBatch) -> dict[str, Any]:
    counts = batch.request_counts()
    return {
        "id": batch.id,
        "kind": "message_batch",
        "label": batch.plan.scenario,
        "status": batch.state,
        "created": batch.created,
        "timeline": timeline(batch),
        "planned": [] if batch.frozen else planned(BATCH_LIFECYCLE, batch),
        "progress": {"total": len(batch.requests), "succeeded": counts["succeeded"], "failed": counts["errored"] + counts["expired"] + counts["canceled"]},
        "counts": counts,
        "counts_label": "request_counts",
    }


def rows(backend: AnthropicBackend, now: float) -> list[dict[str, Any]]:
    return [_row(batch) for batch in backend.all_batches()]


def detail(backend: AnthropicBackend, batch_id: str, seed: int) -> dict[str, Any] | None:
    batch = next((b for b in backend.all_batches() if b.id == batch_id), None)
    if batch is None:
        return None
    types = batch.result_types() if batch.state == "ended" else None
    requests = [
        {"index": i, "custom_id": r.custom_id, "model": r.params.get("model"), "result": types[i] if types else None, "problem": r.problem}
        for i, r in enumerate(batch.requests[:MAX_ITEMS])
    ]
    return {**_row(batch), "scenario": batch.plan.scenario, "expires_at": batch.expires_at, "requests": requests, "requests_total": len(batch.requests)}
