"""HTTP for FormantAI batch calls: parse, call one backend verb, serialise (ISO-8601 times, ``{"data": ...}``)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.responses import Response

from ...core import timefmt
from ...core.errors import InvalidRequest
from ..base import OFF_LOOP_BYTES, Call, Handler, json_response, off_loop
from .csvfile import parse_csv
from .models import BatchCall, FormantBackend
from .scenarios import plan_for

# the create answer is the docs' example shape; get and list add when the batch last changed and finished
CREATE_FIELDS = ("id", "name", "agent_id", "status", "total_recipients", "created_at")


def iso(seconds: float) -> str:
    """FormantAI's timestamps: whole seconds, ``Z``."""
    return timefmt.iso(seconds, "Z", "seconds")


def batch_json(batch: BatchCall) -> dict[str, Any]:
    finished = batch.finished
    return {
        "id": batch.id,
        "name": batch.name,
        "agent_id": batch.agent_id,
        "status": batch.state,
        "total_recipients": batch.total_recipients,
        "created_at": iso(batch.created),
        "updated_at": iso(batch.updated),
        "completed_at": None if finished is None else iso(finished),
    }


async def create_batch_call(call: Call) -> Response:
    upload = call.params.files.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidRequest("'file' must be a CSV file upload (multipart/form-data).", param="file")
    content = await upload.read()
    recipients = await off_loop(len(content), parse_csv, upload.filename or "", content, call.engine.settings.limits.max_csv_rows)
    plan = call.plan(plan_for)
    backend: FormantBackend = call.backend
    agent_id, now = call.body["agent_id"], call.engine.now()
    if agent_id < 1 or len(content) < OFF_LOOP_BYTES:
        batch = backend.create_batch_call(agent_id, call.body["name"], recipients, plan)
        data = batch_json(batch)
    else:  # a large CSV: the batch is planned (and described) in a worker thread, and joins the namespace on the loop
        draft = await off_loop(len(content), backend.draft_batch_call, backend.next_batch_id(), agent_id, call.body["name"], recipients, plan, now)
        data = await off_loop(len(content), batch_json, draft)
        batch = backend.add_batch_call(draft)
    return json_response({"data": {key: data[key] for key in CREATE_FIELDS}})


async def list_batch_calls(call: Call) -> Response:
    offset = call.query("offset", 0)
    batches, total = call.backend.list_batch_calls(agent_id=call.query("agent_id"), limit=call.query("limit", 20), offset=offset)
    return json_response({"data": [batch_json(b) for b in batches], "has_more": offset + len(batches) < total, "total": total})


async def get_batch_call(call: Call) -> Response:
    return json_response({"data": batch_json(call.backend.get_batch_call(call.params.path["batch_id"]))})


async def get_batch_call_metrics(call: Call) -> Response:
    return json_response({"data": call.backend.get_batch_call_metrics(call.params.path["batch_id"])})


HANDLERS: dict[str, Handler] = {
    "createBatchCall": create_batch_call,
    "listBatchCalls": list_batch_calls,
    "getBatchCall": get_batch_call,
    "get-batch-call-metrics": get_batch_call_metrics,
}
