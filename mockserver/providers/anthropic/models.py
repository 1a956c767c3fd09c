"""Message Batches of one namespace, their requests and results, and the verbs the spec's operations call. No HTTP.

Timeline of a batch (simulated seconds; the plan's durations, else the settings'):
- ``in_progress`` from creation; request ``i`` of ``n`` is processed at ``created + in_progress * (i + 1) / n``;
- ``ended`` when the last request is processed, or at ``expires_at`` (24 h) if that comes first: the requests not
  processed by then are ``expired``;
- a cancel makes it ``canceling`` at once and ``ended`` ``cancelling`` seconds later: the requests not processed
  when the cancel arrived are ``canceled``;
- ``archived_at`` is 29 days after creation: from then on the results are gone (404).

A processed request ``succeeded`` or ``errored``: errored if its params are ones the Messages API refuses, else
as the plan's outcome mix says at ``sha256(seed, batch id, index)``. Reads are pure: a result is a function of the
batch and its moments, so nothing is drawn or stored when a batch or its results are read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from ...core.engine import Engine
from ...core.errors import InvalidRequest, NotFound
from ...core.lifecycle import IllegalTransition, record
from ...core.outcomes import derived_id, fraction
from ...core.timefmt import parse_iso
from .lifecycle import BATCH_LIFECYCLE, RESULT_TYPES, STATES
from .scenarios import BUILTIN, Plan, plan_for

MAX_REQUESTS = 100_000  # docs: up to 100,000 requests and 256 MB per batch (the byte limit is Limits.max_message_batch_bytes)
ARCHIVE_AFTER = 29 * 86_400  # docs: results are available for 29 days after creation
BATCH_PREFIX = "msgbatch_"


class BatchRequest(NamedTuple):
    custom_id: str
    params: dict[str, Any]
    problem: str | None  # why the Messages API would refuse these params (the request ends errored), or None


def params_problem(params: dict[str, Any]) -> str | None:
    """What the Messages API would answer 400 to, among what the create schema lets through."""
    if params.get("stream") is True:
        return "stream: Message Batches do not support streaming; remove 'stream' or set it to false."
    if not params.get("messages"):
        return "messages: at least one message is required."
    if params["messages"][0].get("role") != "user":
        return "messages: the first message must use the 'user' role."
    return None


@dataclass
class MessageBatch:
    id: str
    requests: list[BatchRequest]
    plan: Plan
    finishes_at: float  # when the last request is processed (inf: never)
    expires_at: float
    seed: int | None
    seq: int
    size: int = 0  # bytes of the create request, for the storage quota
    cancel_ends_at: float | None = None
    frozen: bool = False  # loaded from a fixture: never moves
    given_types: list[str] | None = None  # a fixture's result types, one per request
    state: str = "in_progress"
    entered_at: float = 0.0
    moments: dict[str, float] = field(default_factory=dict)
    cached_types: list[str] | None = None
    cached_counts: dict[str, int] | None = None  # once ended, the counts never change

    @property
    def created(self) -> float:
        return self.moments["in_progress"]

    @property
    def ended_at(self) -> float | None:
        return self.moments.get("ended")

    @property
    def cancel_initiated_at(self) -> float | None:
        return self.moments.get("canceling")

    def archived_at(self, now: float) -> float | None:
        moment = self.created + ARCHIVE_AFTER
        return moment if now >= moment else None

    def processed_at(self, index: int) -> float:
        n = len(self.requests)
        if index == n - 1 or math.isinf(self.finishes_at):
            return self.finishes_at
        return self.created + (self.finishes_at - self.created) * (index + 1) / n

    def result_types(self) -> list[str]:
        """What each request ended as (the batch must have ended)."""
        if self.given_types is not None:
            return self.given_types
        if self.cached_types is None:
            stop = self.cancel_initiated_at if self.cancel_initiated_at is not None else self.moments["ended"]
            unprocessed = "canceled" if self.cancel_initiated_at is not None else "expired"
            types = []
            for index, request in enumerate(self.requests):
                if self.processed_at(index) > stop:
                    types.append(unprocessed)
                elif request.problem is not None:
                    types.append("errored")
                else:
                    types.append(self.plan.pick(fraction(self.seed, self.id, index)))
            self.cached_types = types
        return self.cached_types

    def request_counts(self) -> dict[str, int]:
        """``processing`` until the batch ends, then one count per result type (the docs: the other counts are zero
        until processing of the entire batch has ended)."""
        counts = {"processing": 0, **{kind: 0 for kind in RESULT_TYPES}}
        if self.state != "ended":
            counts["processing"] = len(self.requests)
            return counts
        if self.cached_counts is None:
            for kind in self.result_types():
                counts[kind] += 1
            self.cached_counts = counts
        return dict(self.cached_counts)


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _prompt(params: dict[str, Any]) -> str:
    parts = [params["system"]] if isinstance(params.get("system"), str) else []
    for message in params.get("messages") or ():
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(block["text"] for block in content if isinstance(block, dict) and isinstance(block.get("text"), str))
    return "\n".join(parts)


def result_line(batch: MessageBatch, index: int, kind: str) -> dict[str, Any]:
    """One line of the results file: ``{custom_id, result}`` with a Message, an error, or nothing more."""
    request = batch.requests[index]
    result: dict[str, Any] = {"type": kind}
    if kind == "succeeded":
        reply = f"Mock reply to {request.custom_id}."
        result["message"] = {
            "id": derived_id("msg_01", batch.seed, batch.id, index, length=22),
            "type": "message",
            "role": "assistant",
            "model": request.params.get("model", ""),
            "content": [{"type": "text", "text": reply}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": _tokens(_prompt(request.params)), "output_tokens": _tokens(reply)},
        }
    elif kind == "errored":
        if request.problem is not None:
            error = {"type": "invalid_request_error", "message": request.problem}
        else:
            error = {"type": "api_error", "message": "Internal server error (simulated by the mock scenario)."}
        result["error"] = {"type": "error", "error": error}
    return {"custom_id": request.custom_id, "result": result}


def results_jsonl(batch: MessageBatch) -> bytes:
    """The results file of an ended batch, in request order (pure: safe in a worker thread)."""
    return b"".join(orjson.dumps(result_line(batch, i, kind)) + b"\n" for i, kind in enumerate(batch.result_types()))


class AnthropicBackend:
    """One namespace (API key) of Message Batches. Verbs are named after the spec's operationIds."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.batches: dict[str, MessageBatch] = {}
        self._order: list[MessageBatch] = []  # creation order
        self._seq = 0

    def _now(self) -> float:
        return self.engine.now()

    def _advance(self, batch: MessageBatch, now: float) -> None:
        if not batch.frozen:
            BATCH_LIFECYCLE.advance(batch, now, record)

    def _batch(self, batch_id: str) -> MessageBatch:
        batch = self.batches.get(batch_id)
        if batch is None:
            raise NotFound(f"message_batch: no Message Batch with id '{batch_id}' for this API key.")
        self._advance(batch, self._now())
        return batch

    def _durations(self, plan: Plan) -> tuple[float, float]:
        d = self.engine.settings.durations
        return (d.in_progress if plan.in_progress is None else plan.in_progress, d.cancelling if plan.cancelling is None else plan.cancelling)

    # -- verbs ------------------------------------------------------------------------------------

    def create_message_batch(self, requests: list[dict[str, Any]], plan: Plan, size: int = 0) -> MessageBatch:
        if len(requests) > MAX_REQUESTS:
            raise InvalidRequest(f"requests: a Message Batch may contain at most {MAX_REQUESTS} requests; got {len(requests)}.")
        seen: set[str] = set()
        parsed = []
        for request in requests:
            custom_id = request["custom_id"]
            if custom_id in seen:
                raise InvalidRequest(f"requests: custom_id '{custom_id}' is used more than once; each must be unique within the batch.")
            seen.add(custom_id)
            parsed.append(BatchRequest(custom_id, request["params"], params_problem(request["params"])))
        now = self._now()
        processing, _ = self._durations(plan)
        settings = self.engine.settings
        self._seq += 1
        batch = MessageBatch(
            id=self.engine.ids.new(BATCH_PREFIX), requests=parsed, plan=plan, finishes_at=now + processing,
            expires_at=now + settings.durations.expiry_window, seed=settings.seed, seq=self._seq, size=size,
        )
        record(batch, "in_progress", now)
        self._add(batch)
        return batch

    def _add(self, batch: MessageBatch) -> None:
        self.batches[batch.id] = batch
        self._order.append(batch)

    def retrieve_message_batch(self, batch_id: str) -> MessageBatch:
        return self._batch(batch_id)

    def list_message_batches(self, before_id: str | None = None, after_id: str | None = None, limit: int = 20) -> tuple[list[MessageBatch], bool]:
        """Newest first: the page after ``after_id`` (older batches) or before ``before_id`` (newer ones); an
        unknown cursor is an empty last page."""
        if before_id and after_id:
            raise InvalidRequest("before_id and after_id cannot both be given.")
        newest_first = self._order[::-1]
        if before_id:
            index = next((i for i, b in enumerate(newest_first) if b.id == before_id), None)
            if index is None:
                return [], False
            start = max(0, index - limit)
            page, has_more = newest_first[start:index], start > 0
        else:
            start = 0
            if after_id:
                found = next((i for i, b in enumerate(newest_first) if b.id == after_id), None)
                if found is None:
                    return [], False
                start = found + 1
            page, has_more = newest_first[start : start + limit], start + limit < len(newest_first)
        now = self._now()
        for batch in page:
            self._advance(batch, now)
        return page, has_more

    def cancel_message_batch(self, batch_id: str) -> MessageBatch:
        batch = self._batch(batch_id)
        if batch.state == "canceling":
            return batch  # cancelling twice is harmless
        if batch.frozen:
            raise InvalidRequest(f"message_batch: '{batch_id}' is a fixture and cannot be canceled.")
        now = self._now()
        try:
            BATCH_LIFECYCLE.fire(batch, "cancel", now, record)
        except IllegalTransition:
            raise InvalidRequest(f"message_batch: '{batch_id}' has ended and can no longer be canceled.") from None
        batch.cancel_ends_at = now + self._durations(batch.plan)[1]
        self._advance(batch, now)
        return batch

    def delete_message_batch(self, batch_id: str) -> MessageBatch:
        batch = self._batch(batch_id)
        if batch.state != "ended":
            then = "Cancel it first." if batch.state == "in_progress" else "Wait until it has ended."
            raise InvalidRequest(f"message_batch: '{batch_id}' is still processing ({batch.state}); only an ended batch can be deleted. {then}")
        del self.batches[batch_id]
        self._order.remove(batch)
        return batch

    def retrieve_message_batch_results(self, batch_id: str) -> MessageBatch:
        """The batch whose results are asked for: ended, and not yet archived."""
        batch = self._batch(batch_id)
        if batch.state != "ended":
            raise InvalidRequest(f"message_batch: '{batch_id}' is {batch.state}; its results are available once processing has ended.")
        if batch.archived_at(self._now()) is not None:
            raise NotFound(f"message_batch: the results of '{batch_id}' are no longer available (archived 29 days after creation).")
        return batch

    # -- admin, quotas and fixtures ---------------------------------------------------------------

    def all_batches(self) -> list[MessageBatch]:
        now = self._now()
        for batch in self._order:
            self._advance(batch, now)
        return list(self._order)

    def describe(self, batch: MessageBatch) -> dict[str, Any]:
        return {"id": batch.id, "status": batch.state, "created": int(batch.created), "requests": len(batch.requests)}

    def stored_bytes(self) -> int:
        return sum(batch.size for batch in self._order)

    def load_fixture(self, kind: str, data: dict[str, Any]) -> None:
        """Preload a ``message_batch``: ``id`` and ``processing_status`` (required); ``created_at`` (ISO-8601 or
        epoch seconds), and either ``requests`` (``[{custom_id, params}]``, processed with the default scenario when
        the batch has ended) or ``request_counts`` (placeholder requests with those result types). It never moves."""
        if kind != "message_batch":
            raise ValueError(f"anthropic fixtures: unknown kind {kind!r} (expected message_batch)")
        missing = [k for k in ("id", "processing_status") if k not in data]
        if missing:
            raise ValueError(f"anthropic fixture message_batch: missing {', '.join(missing)}")
        status = data["processing_status"]
        if status not in STATES:
            raise ValueError(f"anthropic fixture message_batch: processing_status must be one of {', '.join(STATES)}, got {status!r}")
        batch_id = str(data["id"])
        created = _seconds(data.get("created_at"), self._now())
        given: list[str] | None = None
        if "request_counts" in data:
            counts = data["request_counts"]
            if not isinstance(counts, dict) or set(counts) - {"processing", *RESULT_TYPES}:
                raise ValueError(f"anthropic fixture {batch_id}: request_counts takes {', '.join(('processing', *RESULT_TYPES))}")
            given = [kind for kind in RESULT_TYPES for _ in range(int(counts.get(kind, 0)))]
            total = int(counts.get("processing", 0)) + len(given)
            requests = [BatchRequest(f"request-{i}", {"model": "claude-fixture", "max_tokens": 1, "messages": []}, None) for i in range(total)]
            given = given if status == "ended" else None
        else:
            raw = data.get("requests") or []
            if not isinstance(raw, list) or any(not isinstance(r, dict) or "custom_id" not in r or not isinstance(r.get("params"), dict) for r in raw):
                raise ValueError(f"anthropic fixture {batch_id}: requests must be a list of {{custom_id, params}}")
            requests = [BatchRequest(str(r["custom_id"]), r["params"], params_problem(r["params"])) for r in raw]
        self._seq += 1
        plan = plan_for("default", BUILTIN)
        batch = MessageBatch(batch_id, requests, plan, created, created + self.engine.settings.durations.expiry_window,
                             self.engine.settings.seed, self._seq, frozen=True, given_types=given)
        record(batch, "in_progress", created)
        if status != "in_progress":
            record(batch, status, _seconds(data.get("ended_at"), created))
        self._add(batch)


def _seconds(value: Any, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return parse_iso(str(value))


__all__ = ["AnthropicBackend", "MessageBatch"]
