"""Anthropic Message Batches: inline requests, processing_status in_progress -> (canceling ->) ended, results as JSONL."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import Created, Lifecycle, Pagination, Profile, Resource, View

if TYPE_CHECKING:
    from ..api import Api

LIFECYCLE = Lifecycle(
    initial=frozenset({"in_progress"}),
    edges=frozenset({("in_progress", "canceling"), ("in_progress", "ended"), ("canceling", "ended")}),
    terminal=frozenset({"ended"}),
)
RESULT_COUNTS = ("succeeded", "errored", "canceled", "expired")

# two small requests: the least that lets the counts say something, cheap on the real API
REQUESTS = [
    {"custom_id": f"contract-{n}", "params": {"model": "claude-haiku-4-5", "max_tokens": 5,
                                             "messages": [{"role": "user", "content": f"Reply with the number {n}."}]}}
    for n in (1, 2)
]


def auth(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def request_counts(batch: dict[str, Any]) -> list[str]:
    """The docs: requests are ``processing`` until the whole batch has ended, then each has one result type."""
    counts = batch.get("request_counts")
    if not isinstance(counts, dict) or not all(isinstance(counts.get(k), int) for k in ("processing", *RESULT_COUNTS)):
        return []
    problems = [f"request_counts.{k} is negative ({v})" for k, v in counts.items() if isinstance(v, int) and v < 0]
    status = batch.get("processing_status")
    if status == "ended" and counts["processing"] != 0:
        problems.append(f"the batch has ended but request_counts.processing is {counts['processing']}")
    if status in ("in_progress", "canceling") and any(counts[k] for k in RESULT_COUNTS):
        problems.append(f"the batch is {status} but request_counts already has results: {counts}")
    if status == "ended" and not batch.get("results_url"):
        problems.append("the batch has ended but results_url is not set")
    return problems


def create_message_batch(api: Api) -> Created:
    from ._openai import _refused

    exchange = api.call("createMessageBatch", json_body={"requests": REQUESTS})
    if not exchange.ok() or not isinstance(exchange.body, dict) or "id" not in exchange.body:
        _refused(api, exchange)
    batch_id = str(exchange.body["id"])
    api.on_cleanup(f"message batch {batch_id} (cancel if still running)", lambda: _cancel_if_running(api, batch_id), cost=2)
    return Created("message_batch", batch_id)


def _cancel_if_running(api: Api, batch_id: str) -> None:
    exchange = api.call("retrieveMessageBatch", path={"message_batch_id": batch_id}, cleanup=True)
    if isinstance(exchange.body, dict) and exchange.body.get("processing_status") == "in_progress":
        api.call("cancelMessageBatch", path={"message_batch_id": batch_id}, cleanup=True)


def cancel_message_batch(api: Api, batch_id: str) -> None:
    api.call("cancelMessageBatch", path={"message_batch_id": batch_id})


def fetch_results(api: Api, created: Created) -> None:
    """The results of an ended batch: one line per request, each a known result type (checked here)."""
    from ..report import Finding

    exchange = api.call("retrieveMessageBatch", path={"message_batch_id": created.id})
    body = exchange.body if isinstance(exchange.body, dict) else {}
    if body.get("processing_status") != "ended":
        return
    results = api.call("retrieveMessageBatchResults", path={"message_batch_id": created.id})
    if not results.ok():
        return
    step = api.story[-1]  # the results step: its text (a one-line file also parses as one JSON object)
    text = step.text or json.dumps(step.body)
    problems = []
    kinds: dict[str, int] = {}
    for line in filter(None, (raw.strip() for raw in text.splitlines())):
        try:
            item = json.loads(line)
        except ValueError:
            problems.append(f"a results line is not JSON: {line[:80]}")
            continue
        kind = (item.get("result") or {}).get("type") if isinstance(item, dict) else None
        if kind not in RESULT_COUNTS:
            problems.append(f"a results line has no known result type: {line[:80]}")
        else:
            kinds[kind] = kinds.get(kind, 0) + 1
    counts = body.get("request_counts") or {}
    if not problems and any(kinds.get(k, 0) != counts.get(k) for k in RESULT_COUNTS):
        problems.append(f"the results file has {kinds} but request_counts says {counts}")
    for problem in problems:
        api.report.fail(Finding(operation=results.label, check="results_agree", title=problem, message=problem, example=api.script(), phase=api.phase))
    if not problems:
        api.report.passed(results.label, "results_agree")


def progressed(batch: dict[str, Any]) -> bool:
    return batch.get("processing_status") == "ended"


REFUSAL = "the batch is not in a state that allows it (README: Anthropic)"

PROFILE = Profile(
    name="anthropic",
    spec="anthropic",
    key_env=("ANTHROPIC_API_KEY",),
    auth=auth,
    extra_headers={"anthropic-version": ("ANTHROPIC_VERSION", "2023-06-01")},
    resources=(
        Resource(
            name="message_batch",
            id_field="id",
            views=(View("createMessageBatch", creates=True), View("retrieveMessageBatch"), View("cancelMessageBatch"),
                   View("listMessageBatches", many=True)),
            retrieve=("retrieveMessageBatch", "message_batch_id"),
            status="processing_status",
            lifecycle=LIFECYCLE,
            state_timestamps={"in_progress": "created_at", "canceling": "cancel_initiated_at", "ended": "ended_at"},
            stable=("id", "type", "created_at", "expires_at"),
            monotonic=tuple(f"request_counts.{k}" for k in RESULT_COUNTS),
            consistency=request_counts,
            # cancelling an ended batch is refused with a 400 (README: choice where Anthropic documents nothing)
            mutations={"cancelMessageBatch": ((400,), frozenset())},
            # the cancel page: the answer is the batch "canceling" (checked on the answer itself)
            answers={"cancelMessageBatch": frozenset({"canceling"})},
        ),
    ),
    pagination=(Pagination("listMessageBatches", style="cursor", cursor_param="after_id", max_limit=1000),),
    create=create_message_batch,
    cancel=cancel_message_batch,
    fetch_results=fetch_results,
    progressed=progressed,
    refusals={
        "createMessageBatch": ((400,), "a custom_id used twice in one batch is a 400"),
        "listMessageBatches": ((400,), "before_id and after_id together are a 400 (README: Anthropic)"),
        "cancelMessageBatch": ((400,), REFUSAL),
        "deleteMessageBatch": ((400,), REFUSAL),
        "retrieveMessageBatchResults": ((400,), REFUSAL),
    },
    sdk_models={
        "createMessageBatch": ("anthropic.types.messages.MessageBatch", ""),
        "retrieveMessageBatch": ("anthropic.types.messages.MessageBatch", ""),
        "cancelMessageBatch": ("anthropic.types.messages.MessageBatch", ""),
        "listMessageBatches": ("anthropic.types.messages.MessageBatch", "data[]"),
        "deleteMessageBatch": ("anthropic.types.messages.DeletedMessageBatch", ""),
    },
    write_warning="creates a two-request Message Batch per flow (batch pricing applies)",
)
