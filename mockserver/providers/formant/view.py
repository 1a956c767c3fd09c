"""What the dashboard shows of a FormantAI batch call: a row, and a detail with its calls and metrics."""

from __future__ import annotations

from typing import Any

from ...core.timeline import planned, timeline
from .lifecycle import BATCH_CALL_LIFECYCLE
from .models import BatchCall, FormantBackend

MAX_ITEMS = 200  # calls listed in a batch's detail


def _row(batch: BatchCall) -> dict[str, Any]:
    metrics = batch.metrics()
    return {
        "id": str(batch.id),
        "kind": "batch_call",
        "label": batch.name,
        "status": batch.state,
        "created": batch.created,
        "timeline": timeline(batch),
        "planned": planned(BATCH_CALL_LIFECYCLE, batch),
        "progress": {
            "total": batch.total_recipients,
            "succeeded": metrics.get("success_count", 0),
            "failed": metrics.get("total_processed", 0) - metrics.get("success_count", 0),
        },
        "counts": metrics,
        "counts_label": "metrics",
    }


def rows(backend: FormantBackend, now: float) -> list[dict[str, Any]]:
    return [_row(batch) for batch in backend.all_batches()]


def detail(backend: FormantBackend, batch_id: str, seed: int) -> dict[str, Any] | None:
    batch = next((b for b in backend.all_batches() if str(b.id) == batch_id), None)
    if batch is None:
        return None
    calls = [
        {
            "index": call.index,
            "phone": call.phone,
            "parameters": call.parameters,
            "status": call.state,
            "attempt": call.attempt + 1 if call.state != "queued" else 0,
            "attempts": [{"outcome": a.outcome, "start": a.start, "end": a.end} for a in call.attempts],
        }
        for call in batch.calls[:MAX_ITEMS]
    ]
    return {**_row(batch), "agent_id": batch.agent_id, "scenario": batch.scenario, "metrics": batch.metrics(), "calls": calls, "calls_total": len(batch.calls)}
