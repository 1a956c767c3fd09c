"""CHECKLIST 3: the transition table (data only; the engine is mockserver.core.lifecycle). Each moment is a
function of the object, so a read at any time replays the same history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.lifecycle import Event, Lifecycle, Timed

if TYPE_CHECKING:
    from .models import Job

STATES = ("queued", "running", "succeeded", "failed", "cancelled")

JOB_LIFECYCLE: Lifecycle[Job] = Lifecycle(
    name="template::job",
    initial="queued",
    timed=[
        Timed("queued", "running", lambda job: job.starts_at),
        Timed("running", "succeeded", lambda job: job.ends_at if job.outcome == "succeeded" else None),
        Timed("running", "failed", lambda job: job.ends_at if job.outcome == "failed" else None),
    ],
    events=[Event("cancel", frozenset({"queued", "running"}), "cancelled")],
    terminal=frozenset({"succeeded", "failed", "cancelled"}),
)
