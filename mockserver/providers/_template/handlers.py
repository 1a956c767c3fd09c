"""CHECKLIST 5: one module-level ``async def <operation>(call)`` per operationId: parse, call one backend verb,
serialise. Serialisation (the wire object, the provider's timestamp style) lives here."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ...core import timefmt
from ..base import Call, Handler, json_response
from .models import Job, TemplateBackend
from .scenarios import plan_for


def job_json(job: Job) -> dict[str, Any]:
    return {"id": job.id, "object": "job", "name": job.name, "status": job.state, "created_at": timefmt.iso(job.created)}


async def create_job(call: Call) -> Response:
    backend: TemplateBackend = call.backend
    return json_response(job_json(backend.create_job(call.body["name"], call.plan(plan_for))))


async def retrieve_job(call: Call) -> Response:
    return json_response(job_json(call.backend.retrieve_job(call.path_params["job_id"])))


async def list_jobs(call: Call) -> Response:
    jobs, has_more = call.backend.list_jobs(after=call.query("after"), limit=call.query("limit", 20))
    return json_response({"data": [job_json(j) for j in jobs], "has_more": has_more})


async def cancel_job(call: Call) -> Response:
    return json_response(job_json(call.backend.cancel_job(call.path_params["job_id"])))


HANDLERS: dict[str, Handler] = {"createJob": create_job, "retrieveJob": retrieve_job, "listJobs": list_jobs, "cancelJob": cancel_job}
