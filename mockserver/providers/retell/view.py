"""What the dashboard shows of Retell's jobs: a batch test (a row, and a detail with its runs) and a batch call
(a row, and a detail with its tasks as the phone calls they become)."""

from __future__ import annotations

from typing import Any

from ...core.timeline import planned, timeline
from .batch_calls import BatchCall
from .lifecycle import BATCH_TEST_LIFECYCLE, CALL_RESULTS
from .models import BatchTest, RetellBackend

MAX_ITEMS = 200  # runs listed in a batch's detail


def _row(test: BatchTest) -> dict[str, Any]:
    counts = {**test.counts(), "total_count": len(test.runs)}
    return {
        "id": test.id,
        "kind": "batch_test",
        "label": ", ".join(sorted({run.definition.name for run in test.runs}))[:200],
        "status": test.state,
        "created": test.created,
        "timeline": timeline(test),
        "planned": planned(BATCH_TEST_LIFECYCLE, test),
        "progress": {"total": len(test.runs), "succeeded": counts["pass_count"], "failed": counts["fail_count"] + counts["error_count"]},
        "counts": counts,
        "counts_label": "counts",
    }


def _call_row(backend: RetellBackend, batch: BatchCall, now: float) -> dict[str, Any]:
    """Retell has no status for a batch call: the admin API's (scheduled, in_progress, complete), and a
    timeline with the same words: created, first call dialled, last call over (moments fixed at creation)."""
    described = backend.describe(batch)
    counts = {key: value for key, value in described.items() if key.endswith("_count")}
    moments = [
        ("scheduled", batch.created),
        ("in_progress", min((c.dial_at for c in batch.calls if c.dial_at is not None), default=None)),
        ("complete", max((c.end_at for c in batch.calls if c.end_at is not None), default=None)),
    ]
    known = [(state, at) for state, at in moments if at is not None]
    return {
        "id": batch.id,
        "kind": "batch_call",
        "label": batch.name,
        "status": described["status"],
        "created": batch.created,
        "timeline": [{"state": state, "at": at} for state, at in known if at <= now],
        "planned": [{"state": state, "at": at} for state, at in known if at > now],
        "progress": {"total": len(batch.calls), "succeeded": counts.get("ended_count", 0),
                     "failed": counts.get("not_connected_count", 0) + counts.get("error_count", 0)},
        "counts": {**counts, "total_count": len(batch.calls)},
        "counts_label": "calls",
    }


def rows(backend: RetellBackend, now: float) -> list[dict[str, Any]]:
    return [_row(job) if isinstance(job, BatchTest) else _call_row(backend, job, now) for job in backend.all_batches()]


def _call_detail(backend: RetellBackend, batch: BatchCall, now: float) -> dict[str, Any]:
    calls = [
        {
            "index": call.index,
            "to_number": call.task.get("to_number"),
            "call_id": call.id if call.visible else None,  # Retell issues the call id when it dials
            "status": call.state,
            "dial_at": call.dial_at,
            "end_at": call.end_at,
            "disconnection_reason": call.reason if call.state in CALL_RESULTS else None,
        }
        for call in batch.calls[:MAX_ITEMS]
    ]
    return {
        **_call_row(backend, batch, now), "from_number": batch.from_number, "scenario": batch.scenario,
        "reserved_concurrency": batch.reserved_concurrency, "call_time_window": batch.call_time_window,
        "phone_calls": calls, "phone_calls_total": len(batch.calls),
    }


def detail(backend: RetellBackend, batch_id: str, seed: int) -> dict[str, Any] | None:
    job = next((j for j in backend.all_batches() if j.id == batch_id), None)
    if isinstance(job, BatchCall):
        return _call_detail(backend, job, backend.engine.now())
    if job is None:
        return None
    test = job
    runs = [
        {
            "id": run.id,
            "name": run.definition.name,
            "status": run.state,
            "starts_at": run.starts_at,
            "ends_at": run.ends_at,
            "explanation": run.explanation(seed),
        }
        for run in test.runs[:MAX_ITEMS]
    ]
    return {**_row(test), "response_engine": test.response_engine, "scenario": test.scenario, "runs": runs, "runs_total": len(test.runs)}
