"""What the OpenAI-compatible providers (AnyAPI, Portkey, Phaseo) share: the batch and file objects."""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any, NoReturn

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
    if not (isinstance(total, int) and isinstance(done, int) and isinstance(failed, int)):
        return []
    problems = []
    if min(total, done, failed) < 0:
        problems.append(f"request_counts has a negative count: {counts}")
    if done + failed > total:
        problems.append(f"request_counts.completed + failed = {done + failed} exceeds total = {total}")
    if batch.get("status") == "completed" and done + failed != total:
        problems.append(f"the batch is completed but request_counts.completed + failed = {done + failed} != total = {total}")
    return problems


def batch_sent(step: Any) -> dict[str, Any]:
    """What a batch create sent that every later answer must give back."""
    body = step.json_body if isinstance(step.json_body, dict) else {}
    return {k: body[k] for k in ("input_file_id", "endpoint", "completion_window", "metadata") if k in body}


def file_sent(step: Any) -> dict[str, Any]:
    """What an upload sent that every later answer must give back: the purpose and the file's name."""
    sent: dict[str, Any] = {}
    if step.data and "purpose" in step.data:
        sent["purpose"] = step.data["purpose"]
    if step.files and "file" in step.files:
        sent["filename"] = step.files["file"][0]
    return sent


def batch_resource(lifecycle: Lifecycle, cancel_partial: bool = False, list_op: bool = True,
                   cancel_answers: frozenset[str] = frozenset()) -> Resource:
    views = [View("createBatch", creates=True), View("retrieveBatch"), View("cancelBatch", partial=cancel_partial)]
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
        # cancelling a finished batch is refused with a 400; a cancelled one may be cancelled again (nothing changes)
        mutations={"cancelBatch": ((400,), frozenset({"cancelled"}))},
        echo=batch_sent,
        answers={"cancelBatch": cancel_answers} if cancel_answers else {},
        undo="cancelBatch",
    )


def file_resource(list_op: bool, delete: bool = False) -> Resource:
    views = [View("createFile", creates=True), View("retrieveFile")] + ([View("listFiles", many=True)] if list_op else [])
    return Resource(
        echo=file_sent,
        delete="deleteFile" if delete else None,
        undo="deleteFile" if delete else None,
        name="file",
        id_field="id",
        views=tuple(views),
        retrieve=("retrieveFile", "file_id"),
        status=None,
        stable=("id", "object", "bytes", "created_at", "filename", "purpose"),
    )


BATCH_PAGES = Pagination("listBatches", style="cursor", cursor_param="after", max_limit=100)
FILE_PAGES = Pagination("listFiles", style="cursor", cursor_param="after", max_limit=10_000)
# OpenAI's list order: newest first; a file list takes order=asc|desc (default desc)
BATCH_PAGES_NEWEST = Pagination("listBatches", style="cursor", cursor_param="after", max_limit=100, order="desc")
FILE_PAGES_ORDERED = Pagination("listFiles", style="cursor", cursor_param="after", max_limit=10_000, order="desc", order_param="order")
# the id of an input file that was never uploaded (the shape of OpenAI's ids)
UNKNOWN_FILE = "file-mockservercontract000000"

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


def _refused(api: Api, exchange: Any) -> NoReturn:
    from ..api import FlowError
    from ..report import Finding

    message = f"a valid request was answered {exchange.status}: {json.dumps(exchange.body)[:300]}"
    api.report.fail(Finding(operation=exchange.label, check="create_accepted", title=message, message=message,
                            example=exchange.example, phase=api.phase))
    raise FlowError(message)


# cancelling a finished batch is a 400 (the README's choice where OpenAI documents nothing)
CANCEL_REFUSALS: dict[str, tuple[tuple[int, ...], str]] = {"cancelBatch": ((400,), "cancelling a finished batch is a 400 (README: choice where OpenAI documents nothing)")}


def fetch_results(api: Api, created: Created) -> None:
    """Download the output and error files of a finished batch (the invariants compare them with its counts)."""
    exchange = api.call("retrieveBatch", path={"batch_id": created.id})
    body = exchange.body if isinstance(exchange.body, dict) else {}
    for key in ("output_file_id", "error_file_id"):
        if body.get(key) and api.has("downloadFile"):
            api.call("downloadFile", path={"file_id": body[key]})


# a batch input whose second line is not JSON: a server refuses it (400 at upload or creation, or a failed batch)
BAD_INPUT = (json.dumps(INPUT_LINES[0]) + "\n{not json\n").encode()


def probe_bad_input(api: Api) -> None:
    """Upload an input with a line that is not JSON and make a batch of it: refused or failed, never a 5xx or a success."""
    from ..report import Finding

    upload = api.call("createFile", files={"file": ("mockserver_contract_bad.jsonl", BAD_INPUT, "application/jsonl")},
                      data={"purpose": "batch"})
    if not upload.ok() or not isinstance(upload.body, dict) or "id" not in upload.body:
        api.report.passed(upload.label, "bad_input_refused") if 400 <= upload.status < 500 else None
        return
    file_id = str(upload.body["id"])
    if api.has("deleteFile"):
        api.on_cleanup(f"file {file_id} (delete)", lambda: _delete_file(api, file_id), cost=1)
    batch = api.call("createBatch", json_body={"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"})
    if not batch.ok() or not isinstance(batch.body, dict) or "id" not in batch.body:
        if 400 <= batch.status < 500:
            api.report.passed(batch.label, "bad_input_refused")
        return
    batch_id = str(batch.body["id"])
    api.on_cleanup(f"batch {batch_id} (cancel if still running)", lambda: _cancel_if_active(api, batch_id), cost=2)
    from ..semantics import poll

    status = poll(api, Created("batch", batch_id), api.poll_timeout, api.poll_interval)
    problems = [] if status in ("failed", None) or status in ACTIVE else [
        f"batch {batch_id} was made from an input with a line that is not JSON and ended {status!r}, not 'failed'"]
    for problem in problems:
        api.report.fail(Finding(operation=batch.label, check="bad_input_refused", title=problem, message=problem,
                                example=api.script(), phase=api.phase))
    if not problems:
        api.report.passed(batch.label, "bad_input_refused")


def probe_unknown_input(api: Api) -> None:
    """A batch of an input file that does not exist must be refused (4xx), not accepted."""
    from ..truth import check_refused

    exchange = api.call("createBatch", json_body={"input_file_id": UNKNOWN_FILE, "endpoint": "/v1/chat/completions",
                                                  "completion_window": "24h"})
    if check_refused(api, exchange, f"the input file {UNKNOWN_FILE}, which was never uploaded") and isinstance(exchange.body, dict):
        batch_id = str(exchange.body.get("id"))
        api.on_cleanup(f"batch {batch_id} (accepted with an unknown input file; cancel)", lambda: _cancel_if_active(api, batch_id), cost=2)


def progressed(batch: dict[str, Any]) -> bool:
    counts = batch.get("request_counts")
    return isinstance(counts, dict) and (counts.get("completed") or 0) + (counts.get("failed") or 0) > 0


SDK_MODELS = {
    "createBatch": ("openai.types.Batch", ""), "retrieveBatch": ("openai.types.Batch", ""),
    "listBatches": ("openai.types.Batch", "data[]"), "createFile": ("openai.types.FileObject", ""),
    "retrieveFile": ("openai.types.FileObject", ""), "listFiles": ("openai.types.FileObject", "data[]"),
}


EXPLORE_BROKEN = ("{not json", "[]", '{"custom_id": 7}', '{"method": "POST"}', "", "\u00f6", "null", '{"custom_id": "x", "body": ')


def explore_jsonl(rng: random.Random) -> bytes:
    """A generated batch input for --explore: one to five lines, valid request lines mixed with broken ones."""
    lines = []
    for _ in range(rng.randint(1, 5)):
        if rng.random() < 0.6:
            n = rng.randint(0, 10_000)
            lines.append(json.dumps({"custom_id": f"explore-{n}", "method": "POST", "url": "/v1/chat/completions",
                                     "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Say {n}."}]}}))
        else:
            lines.append(rng.choice(EXPLORE_BROKEN))
    return ("\n".join(lines) + "\n").encode()


OPENAI_EXTRAS: dict[str, Any] = {
    "fetch_results": fetch_results, "probe_bad_input": probe_bad_input, "progressed": progressed,
    "probe_unknown_reference": probe_unknown_input,
    "sdk_models": SDK_MODELS, "explore_files": {"createFile": explore_jsonl},
}
