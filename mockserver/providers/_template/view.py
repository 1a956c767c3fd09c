"""CHECKLIST 6: what the dashboard shows of a job (pure reads: no id drawn)."""

from __future__ import annotations

from typing import Any

from ...core.timeline import planned, timeline
from .lifecycle import JOB_LIFECYCLE
from .models import Job, TemplateBackend


def _row(job: Job) -> dict[str, Any]:
    done = job.state in ("succeeded", "failed")
    return {
        "id": job.id, "kind": "job", "label": job.name, "status": job.state, "created": job.created,
        "timeline": timeline(job), "planned": [] if job.frozen else planned(JOB_LIFECYCLE, job),
        "progress": {"total": 1, "succeeded": int(job.state == "succeeded"), "failed": int(job.state == "failed")},
        "counts": {"finished": int(done)}, "counts_label": "counts",
    }


def rows(backend: TemplateBackend, now: float) -> list[dict[str, Any]]:
    return [_row(job) for job in backend.all_batches()]


def detail(backend: TemplateBackend, job_id: str, seed: int) -> dict[str, Any] | None:
    job = next((j for j in backend.all_batches() if j.id == job_id), None)
    return None if job is None else {**_row(job), "outcome": job.outcome}
