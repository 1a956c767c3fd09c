"""CHECKLIST 3: state and one verb per operationId (snake_case), no HTTP. Ids come from ``engine.ids``, time from
``engine.now()``, outcomes from ``core.outcomes.fraction(seed, id, ...)``; plain data only, so ``--state`` can
pickle the backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...core.engine import Engine
from ...core.errors import InvalidRequest, NotFound
from ...core.lifecycle import IllegalTransition, record
from ...core.outcomes import fraction
from ...core.pages import cursor_page
from .lifecycle import JOB_LIFECYCLE, STATES
from .scenarios import Plan


@dataclass
class Job:
    id: str
    name: str
    outcome: str
    starts_at: float
    ends_at: float
    frozen: bool = False
    state: str = "queued"
    entered_at: float = 0.0
    moments: dict[str, float] = field(default_factory=dict)

    @property
    def created(self) -> float:
        return self.moments["queued"]


class TemplateBackend:
    """One namespace (API key) of jobs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.jobs: dict[str, Job] = {}

    def _job(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFound(f"No job {job_id!r}.")
        self._advance(job)
        return job

    def _advance(self, job: Job) -> None:
        if not job.frozen:
            JOB_LIFECYCLE.advance(job, self.engine.now(), record)

    # -- verbs --------------------------------------------------------------------------------------

    def create_job(self, name: str, plan: Plan) -> Job:
        now, settings = self.engine.now(), self.engine.settings
        job_id = self.engine.ids.new("job_")
        duration = settings.durations.in_progress if plan.in_progress is None else plan.in_progress
        job = Job(job_id, name, plan.pick(fraction(settings.seed, job_id)), now + settings.durations.validating,
                  now + settings.durations.validating + duration)
        record(job, "queued", now)
        self.jobs[job.id] = job
        return job

    def retrieve_job(self, job_id: str) -> Job:
        return self._job(job_id)

    def list_jobs(self, after: str | None = None, limit: int = 20) -> tuple[list[Job], bool]:
        page, has_more = cursor_page(list(self.jobs.values())[::-1], limit, after)
        for job in page:
            self._advance(job)
        return page, has_more

    def cancel_job(self, job_id: str) -> Job:
        job = self._job(job_id)
        try:
            JOB_LIFECYCLE.fire(job, "cancel", self.engine.now(), record)
        except IllegalTransition:
            raise InvalidRequest(f"Job {job_id!r} has finished ({job.state}) and cannot be cancelled.") from None
        return job

    # -- what the neutral layers call (core.backend.Backend) -----------------------------------------

    def all_batches(self) -> list[Job]:
        for job in self.jobs.values():
            self._advance(job)
        return list(self.jobs.values())

    def describe(self, job: Job) -> dict[str, Any]:
        return {"id": job.id, "status": job.state}

    def stored_bytes(self) -> int:
        return sum(len(job.name) for job in self.jobs.values())

    def load_fixture(self, kind: str, data: dict[str, Any]) -> None:
        """A ``job``: ``id``, ``status`` (required), ``name``; it never moves."""
        if kind != "job":
            raise ValueError(f"template fixtures: unknown kind {kind!r} (expected job)")
        if data.get("status") not in STATES or "id" not in data:
            raise ValueError(f"template fixture job: needs an id and a status among {', '.join(STATES)}")
        now = self.engine.now()
        job = Job(str(data["id"]), str(data.get("name", "")), "succeeded", now, now, frozen=True)
        record(job, "queued", now)
        if data["status"] != "queued":
            record(job, data["status"], now)
        self.jobs[job.id] = job
