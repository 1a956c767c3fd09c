"""HTTP for the OpenAI-compatible surface: parse, call one backend verb, serialise. Nothing else.

Every handler is shared by the dialects and finds what its provider changes through ``dialect_of(call)``
(the ``Dialect`` on ``call.provider``)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.responses import Response

from ...core.errors import InvalidRequest
from ...core.pages import first_last_list
from ..base import Call, Handler, json_response, off_loop
from .dialect import batch_object, dialect_of, file_object
from .models import Batch, File, OpenAIBatchBackend
from .scenarios import plan_for


async def built(files: list[File]) -> None:
    """Result files about to be shown or sent, built first (a large one in a worker thread)."""
    for file in files:
        if not file.built:
            batch = file.batch
            await off_loop(len(batch.lines) * 100 if batch else 0, lambda f=file: f.content)


async def counted(batches: list[Batch]) -> None:
    """The usage of finished batches about to be shown, counted first (a large batch in a worker thread)."""
    for batch in batches:
        if batch.has_results and batch.cached_usage is None:
            await off_loop(len(batch.lines) * 20, lambda b=batch: b.usage)


async def input_parsed(backend: OpenAIBatchBackend, file_id: str, endpoint: str) -> None:
    """A large input file validated in a worker thread before create_batch (which then finds it parsed)."""
    file = backend.files.get(file_id)
    if file is not None and file.purpose == "batch" and file.built:
        await off_loop(len(file.content), backend.parse_input, file_id, endpoint)


def batch_json(call: Call, batch: Batch) -> dict[str, Any]:
    dialect = dialect_of(call)
    data = batch_object(batch, call.engine.now(), dialect.batch_fields)
    return dialect.batch_additions(call, batch, data)


async def create_file(call: Call) -> Response:
    upload = call.params.files.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidRequest("'file' must be a file upload (multipart/form-data).", param="file")
    content = await upload.read()
    backend: OpenAIBatchBackend = call.backend
    seconds = call.body.get("expires_after[seconds]")  # the openai SDK's multipart form of expires_after
    file = backend.create_file(upload.filename or "upload", call.body["purpose"], content, expires_after=seconds)
    return json_response(file_object(file, dialect_of(call).file_fields))


async def retrieve_file(call: Call) -> Response:
    file = call.backend.retrieve_file(call.path_params["file_id"])
    await built([file])
    return json_response(file_object(file, dialect_of(call).file_fields))


async def download_file(call: Call) -> Response:
    file = call.backend.download_file(call.path_params["file_id"])
    await built([file])
    return Response(file.content, media_type="application/octet-stream")


async def delete_file(call: Call) -> Response:
    file = call.backend.delete_file(call.path_params["file_id"])
    return json_response({"id": file.id, "object": "file", "deleted": True})


async def list_files(call: Call) -> Response:
    files, has_more = call.backend.list_files(
        purpose=call.query("purpose"), limit=call.query("limit", 10_000), order=call.query("order", "desc"), after=call.query("after")
    )
    await built(files)
    fields = dialect_of(call).file_fields
    return json_response(first_last_list([file_object(f, fields) for f in files], has_more))


async def create_batch(call: Call) -> Response:
    body = call.body
    dialect = dialect_of(call)
    backend: OpenAIBatchBackend = call.backend
    name, asked = call.scenario((call.body.get("metadata") or {}).get("mock_scenario"))
    endpoint = dialect.normalise_endpoint(body["endpoint"])
    await input_parsed(backend, body["input_file_id"], endpoint)
    batch = backend.create_batch(
        input_file_id=body["input_file_id"],
        endpoint=endpoint,
        completion_window=body.get("completion_window") or dialect.default_completion_window,
        metadata=body.get("metadata"),
        plan=plan_for(name, backend.default_plan(), call.engine.scenarios, explicit=asked),
        extra={
            **dialect.create_extras(call),
            **({"output_expires_after": body["output_expires_after"]} if body.get("output_expires_after") else {}),
            "via_api": True,  # announced by webhooks (a fixture's batch is not)
        },
    )
    return json_response(batch_json(call, batch))


async def retrieve_batch(call: Call) -> Response:
    batch = call.backend.retrieve_batch(call.path_params["batch_id"])
    await counted([batch])
    return json_response(batch_json(call, batch))


async def list_batches(call: Call) -> Response:
    dialect = dialect_of(call)
    statuses = dialect.status_filter(call) if dialect.status_filter else None
    batches, has_more = call.backend.list_batches(after=call.query("after"), limit=call.query("limit", 20), statuses=statuses)
    await counted(batches)
    return json_response(first_last_list([batch_json(call, b) for b in batches], has_more))


async def cancel_batch(call: Call) -> Response:
    dialect = dialect_of(call)
    batch = call.backend.cancel_batch(call.path_params["batch_id"])
    await counted([batch])
    data = batch_json(call, batch)
    return json_response(dialect.cancel_body(call, data) if dialect.cancel_body else data)


# operationId -> handler: each dialect's PROVIDER takes the operations its spec has (``handlers_for``)
HANDLERS: dict[str, Handler] = {
    "createFile": create_file,
    "retrieveFile": retrieve_file,
    "downloadFile": download_file,
    "deleteFile": delete_file,
    "listFiles": list_files,
    "createBatch": create_batch,
    "retrieveBatch": retrieve_batch,
    "listBatches": list_batches,
    "cancelBatch": cancel_batch,
}


def handlers_for(*operations: str) -> dict[str, Handler]:
    """The shared handlers of ``operations`` (a KeyError names an operation this family has no handler for)."""
    return {op: HANDLERS[op] for op in operations}
