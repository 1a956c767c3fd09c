"""What the dashboard shows of an OpenAI-compatible batch: a row, and a detail with previews of its files."""

from __future__ import annotations

from typing import Any

from ...core.timeline import planned, timeline
from .lifecycle import BATCH_LIFECYCLE
from .models import Batch, File, OpenAIBatchBackend

PREVIEW_LINES = 5  # first lines shown of each input, output and error file
PREVIEW_CHARS = 2000  # a longer line is cut


def _preview(file: File | None) -> dict[str, Any] | None:
    if file is None:
        return None
    text = file.content.decode("utf-8", errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    shown = [line if len(line) <= PREVIEW_CHARS else line[:PREVIEW_CHARS] + " …" for line in lines[:PREVIEW_LINES]]
    return {"id": file.id, "filename": file.filename, "bytes": file.bytes, "line_count": len(lines), "lines": shown}


def _row(batch: Batch, now: float) -> dict[str, Any]:
    counts = batch.request_counts(now)
    label = ", ".join(f"{k}={v}" for k, v in (batch.metadata or {}).items())
    return {
        "id": batch.id,
        "kind": "batch",
        "label": label,
        "status": batch.state,
        "created": batch.created_at,
        "timeline": timeline(batch),
        "planned": planned(BATCH_LIFECYCLE, batch),
        "progress": {"total": counts["total"] or len(batch.lines), "succeeded": counts["completed"], "failed": counts["failed"]},
        "counts": counts,
        "counts_label": "request_counts",
    }


def rows(backend: OpenAIBatchBackend, now: float) -> list[dict[str, Any]]:
    return [_row(batch, now) for batch in backend.all_batches()]


def detail(backend: OpenAIBatchBackend, batch_id: str, seed: int) -> dict[str, Any] | None:
    batch = backend.batches.get(batch_id)
    if batch is None:
        return None
    backend.settle()
    now = backend.engine.now()
    batch = backend.retrieve_batch(batch_id)
    webhook = batch.extra.get("webhook") or None
    files = backend.files
    return {
        **_row(batch, now),
        "endpoint": batch.endpoint,
        "model": batch.model,
        "metadata": batch.metadata,
        "scenario": batch.plan.scenario,
        "expires_at": batch.expires_at,
        "errors": [e.as_dict() for e in batch.validation_errors] if batch.state == "failed" else [],
        "usage": batch.usage,
        "webhook": None if webhook is None else {"url": webhook.get("url"), "events": webhook.get("events", []), "has_secret": bool(webhook.get("secret"))},
        "files": {
            "input": _preview(files.get(batch.input_file_id)),
            "output": _preview(files.get(batch.output_file_id)) if batch.output_file_id else None,
            "error": _preview(files.get(batch.error_file_id)) if batch.error_file_id else None,
        },
    }
