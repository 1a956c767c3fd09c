"""What the OpenAI-compatible providers (AnyAPI, Portkey, Phaseo) share: the batch and file objects."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import Created, Lifecycle, Pagination, Resource, View

if TYPE_CHECKING:
    from ..api import Api

ACTIVE = ("validating", "in_progress", "finalizing")

# OpenAI's batch lifecycle (PROVIDERS.md 1.7): a cancel goes through cancelling; a cancel that comes too
# late lets the batch complete; only a batch that is still validating or running can expire.
LIFECYCLE = Lifecycle(
    initial=frozenset({"validating"}),
    edges=frozenset(
        {
            ("validating", "in_progress"), ("validating", "failed"), ("validating", "expired"),
            ("in_progress", "finalizing"), ("in_progress", "expired"), ("finalizing", "completed"),
            *((state, "cancelling") for state in ACTIVE),
            ("cancelling", "cancelled"), ("cancelling", "completed"),
        }
    ),
    terminal=frozenset({"failed", "completed", "expired", "cancelled"}),
)

# AnyAPI documents a cancel that answers "cancelled" at once (no cancelling phase)
LIFECYCLE_CANCEL_NOW = Lifecycle(
    initial=LIFECYCLE.initial,
    edges=LIFECYCLE.edges | {(state, "cancelled") for state in ACTIVE},
    terminal=LIFECYCLE.terminal,
)

STATE_TIMESTAMPS = {
    "validating": "created_at", "in_progress": "in_progress_at", "finalizing": "finalizing_at",
    "completed": "completed_at", "failed": "failed_at", "expired": "expired_at",
    "cancelling": "cancelling_at", "cancelled": "cancelled_at",
}


def request_counts(batch: dict[str, Any]) -> list[str]:
    """completed + failed never exceed total, and add up to it once the batch completed."""
    counts = batch.get("request_counts")
    if not isinstance(counts, dict):
        return []
    total, done, failed = counts.get("total"), counts.get("completed"), counts.get("failed")
    if not all(isinstance(v, int) for v in (total, done, failed)):
        return []
    problems = []
    if min(total, done, failed) < 0:
        problems.append(f"request_counts has a negative count: {counts}")
    if done + failed > total:
        problems.append(f"request_counts.completed + failed = {done + failed} exceeds total = {total}")
    if batch.get("status") == "completed" and done + failed != total:
        problems.append(f"the batch is completed but request_counts.completed + failed = {done + failed} != total = {total}")
    return problems


def batch_resource(lifecycle: Lifecycle, cancel_partial: bool = False, list_op: bool = True) -> Resource:
    views = [View("createBatch"), View("retrieveBatch"), View("cancelBatch", partial=cancel_partial)]
    if list_op:
        views.append(View("listBatches", many=True))
    return Resource(
        name="batch",
        id_field="id",
        views=tuple(views),
        retrieve=("retrieveBatch", "batch_id"),
        lifecycle=lifecycle,
        state_timestamps=STATE_TIMESTAMPS,
        stable=("id", "object", "created_at", "expires_at", "input_file_id", "endpoint", "completion_window"),
        monotonic=("request_counts.total", "request_counts.completed", "request_counts.failed"),
        consistency=request_counts,
    )


def file_resource(list_op: bool) -> Resource:
    views = [View("createFile"), View("retrieveFile")] + ([View("listFiles", many=True)] if list_op else [])
    return Resource(
        name="file",
        id_field="id",
        views=tuple(views),
        retrieve=("retrieveFile", "file_id"),
        status=None,
        stable=("id", "object", "bytes", "created_at", "filename", "purpose"),
    )


BATCH_PAGES = Pagination("listBatches", style="cursor", cursor_param="after", max_limit=100)
FILE_PAGES = Pagination("listFiles", style="cursor", cursor_param="after", max_limit=10_000)

# a two-line batch input: the smallest that lets counters move, cheap on a real provider
INPUT_LINES = [
    {"custom_id": f"contract-{n}", "method": "POST", "url": "/v1/chat/completions",
     "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Reply with the number {n}."}], "max_tokens": 5}}
    for n in (1, 2)
]


def create_batch(api: Api) -> Created:
    """Upload a JSONL input file, then create a batch from it; the file is deleted afterwards where the API can."""
    content = ("\n".join(json.dumps(line) for line in INPUT_LINES) + "\n").encode()
    upload = api.call("createFile", files={"file": ("mockserver_contract.jsonl", content, "application/jsonl")}, data={"purpose": "batch"})
    if not upload.ok() or not isinstance(upload.body, dict) or "id" not in upload.body:
        _refused(api, upload)
    file_id = str(upload.body["id"])
    if api.has("deleteFile"):
        api.on_cleanup(f"file {file_id} (delete)", lambda: _delete_file(api, file_id), cost=1)
    else:
        api.report.created.append(f"file {file_id} (the API has no delete; it expires by itself)")
    batch = api.call("createBatch", json_body={
        "input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h",
        "metadata": {"created_by": "mockserver-contract"},
    })
    if not batch.ok() or not isinstance(batch.body, dict) or "id" not in batch.body:
        _refused(api, batch)
    batch_id = str(batch.body["id"])
    api.on_cleanup(f"batch {batch_id} (cancel if still running)", lambda: _cancel_if_active(api, batch_id), cost=2)
    return Created("batch", batch_id)


def cancel_batch(api: Api, batch_id: str) -> None:
    api.call("cancelBatch", path={"batch_id": batch_id})


def _cancel_if_active(api: Api, batch_id: str) -> None:
    exchange = api.call("retrieveBatch", path={"batch_id": batch_id}, cleanup=True)
    if isinstance(exchange.body, dict) and exchange.body.get("status") in ACTIVE:
        api.call("cancelBatch", path={"batch_id": batch_id}, cleanup=True)


def _delete_file(api: Api, file_id: str) -> None:
    exchange = api.call("deleteFile", path={"file_id": file_id}, cleanup=True)
    if not exchange.ok() and exchange.status != 404:  # 404: already gone (the fuzzing phase may delete it)
        raise RuntimeError(f"delete answered {exchange.status}")


def _refused(api: Api, exchange: Any) -> None:
    from ..api import FlowError
    from ..report import Finding

    message = f"a valid request was answered {exchange.status}: {json.dumps(exchange.body)[:300]}"
    api.report.fail(Finding(operation=exchange.label, check="create_accepted", title=message, message=message,
                            example=exchange.example, phase=api.phase))
    raise FlowError(message)


# cancelling a finished batch is a 400 (the README's choice where OpenAI documents nothing)
CANCEL_REFUSALS = {"cancelBatch": ((400,), "cancelling a finished batch is a 400 (README: choice where OpenAI documents nothing)")}
