"""What the dashboard shows of a Retell batch test: a row, and a detail with its runs."""

from __future__ import annotations

from typing import Any

from ...core.timeline import planned, timeline
from .lifecycle import BATCH_TEST_LIFECYCLE
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


def rows(backend: RetellBackend, now: float) -> list[dict[str, Any]]:
    return [_row(test) for test in backend.all_batches() if isinstance(test, BatchTest)]  # batch calls: not shown yet


def detail(backend: RetellBackend, batch_id: str, seed: int) -> dict[str, Any] | None:
    test = next((t for t in backend.all_batches() if isinstance(t, BatchTest) and t.id == batch_id), None)
    if test is None:
        return None
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
