"""Portkey's own operation (``GET /batches/{batch_id}/output``); the rest are openai_family's shared handlers."""

from __future__ import annotations

import json

from starlette.responses import Response

from ...core.errors import NotFound
from ..base import Call, Handler
from ..openai_family.handlers import built, handlers_for
from ..openai_family.models import OpenAIBatchBackend


async def get_batch_output(call: Call) -> Response:
    backend: OpenAIBatchBackend = call.backend
    file, batch = backend.batch_output(call.path_params["batch_id"])
    if file is not None:
        await built([file])
        return Response(file.content, media_type="application/octet-stream")
    if batch.state == "failed":
        # the gateway answers the batch's errors with 200 when there is no output file: `new Response(JSON.stringify(
        # errors), {status: 200})` (GW-PK getBatchOutput.ts), which the Fetch standard labels text/plain;charset=UTF-8
        errors = {"object": "list", "data": [e.as_dict() for e in batch.validation_errors]}
        return Response(json.dumps(errors).encode(), headers={"content-type": "text/plain;charset=UTF-8"})
    # the gateway would fetch the content of a file that does not exist yet: the provider's 404
    raise NotFound(f"Batch {batch.id} has no output file yet (status '{batch.state}').", param="batch_id")


HANDLERS: dict[str, Handler] = {
    **handlers_for(
        "createFile", "listFiles", "retrieveFile", "deleteFile", "downloadFile", "createBatch", "listBatches", "retrieveBatch", "cancelBatch"
    ),
    "getBatchOutput": get_batch_output,
}
