"""Files and batches of one namespace, and the verbs the spec's operations call. No HTTP here."""

from __future__ import annotations


import functools
import json
import math
import random
from dataclasses import dataclass, field
from typing import Any

from ...core.engine import Engine
from ...core.errors import InvalidRequest, NotFound
from ...core.lifecycle import IllegalTransition, record
from .inputs import InputLine, LineError, validate_input
from .lifecycle import ACTIVE, BATCH_LIFECYCLE, TERMINAL
from ...core.outcomes import digest
from .results import failure_body, success_body, usage_of

BATCH_FILE_TTL = 30 * 86_400  # files with purpose=batch expire after 30 days


@dataclass
class File:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: float
    seq: int
    expires_at: float | None = None

    @property
    def bytes(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class BatchPlan:
    """How one batch will behave, fixed when it is created (durations in simulated seconds)."""

    validating: float
    in_progress: float
    finalizing: float
    cancelling: float
    line_failure_rate: float = 0.0
    scenario: str = "default"
    # a batch-level validation failure not caused by the file (e.g. "token_limit_exceeded")
    validation_error: str | None = None
    # a cancel that arrives too late: the batch goes cancelling -> completed
    cancel_race: bool = False


@dataclass
class Batch:
    id: str
    endpoint: str
    input_file_id: str
    completion_window: str
    metadata: dict[str, str] | None
    plan: BatchPlan
    expires_at: float
    seq: int
    lines: list[InputLine]
    validation_errors: list[LineError]
    failed_before: list[int]  # failed_before[i] = failed lines among the first i
    state: str = "validating"
    entered_at: float = 0.0
    moments: dict[str, float] = field(default_factory=dict)
    done_when_stopped: int | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    usage: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def created_at(self) -> float:
        return self.moments["validating"]

    @functools.cached_property
    def model(self) -> str | None:
        """The model the lines ask for (validation makes it one per batch)."""
        return next((line.body["model"] for line in self.lines if isinstance(line.body.get("model"), str)), None)

    @property
    def total(self) -> int:
        return 0 if self.state in ("validating", "failed") or "in_progress" not in self.moments else len(self.lines)

    def done(self, now: float) -> int:
        """Lines processed so far: grows during in_progress, then freezes."""
        if self.done_when_stopped is not None:
            return self.done_when_stopped
        if self.state in ("finalizing", "completed"):
            return len(self.lines)
        if self.state != "in_progress":
            return 0
        return self._progress(now)

    def _progress(self, at: float) -> int:
        start = self.moments["in_progress"]
        if self.plan.in_progress <= 0:
            return len(self.lines)
        if math.isinf(self.plan.in_progress):
            return 0
        fraction = min(1.0, max(0.0, (at - start) / self.plan.in_progress))
        return math.floor(len(self.lines) * fraction)

    def request_counts(self, now: float) -> dict[str, int]:
        done = self.done(now)
        failed = self.failed_before[done] if self.failed_before else 0
        return {"total": self.total, "completed": done - failed, "failed": failed}

    def timestamp(self, state: str) -> int | None:
        at = self.moments.get(state)
        return None if at is None else int(at)


class OpenAIBatchBackend:
    """One namespace's files and batches. Verbs are named after the specs' operationIds."""

    def __init__(self, engine: Engine, cancel_event: str = "cancel", file_prefix: str = "file-", batch_prefix: str = "batch_") -> None:
        self.engine = engine
        self.cancel_event = cancel_event
        self.file_prefix = file_prefix
        self.batch_prefix = batch_prefix
        self.files: dict[str, File] = {}
        self.batches: dict[str, Batch] = {}
        self._seq = 0

    # -- helpers -----------------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _now(self) -> float:
        return self.engine.now()

    def _file(self, file_id: str) -> File:
        file = self.files.get(file_id)
        if file is None:
            raise NotFound(f"No such File object: {file_id}", param="file_id")
        return file

    def _batch(self, batch_id: str) -> Batch:
        batch = self.batches.get(batch_id)
        if batch is None:
            raise NotFound(f"No batch found with id '{batch_id}'.", param="batch_id")
        BATCH_LIFECYCLE.advance(batch, self._now(), self._enter)
        return batch

    def _add_file(self, filename: str, purpose: str, content: bytes, created_at: float, file_id: str | None = None) -> File:
        file = File(
            id=file_id or self.engine.ids.new(self.file_prefix),
            filename=filename,
            purpose=purpose,
            content=content,
            created_at=created_at,
            seq=self._next_seq(),
            expires_at=created_at + BATCH_FILE_TTL if purpose == "batch" else None,
        )
        self.files[file.id] = file
        return file

    def stored_bytes(self) -> int:
        """What this namespace keeps, for the storage quota: the content of its files (inputs and results)."""
        return sum(len(file.content) for file in self.files.values())

    # -- files -------------------------------------------------------------------------------------

    def create_file(self, filename: str, purpose: str, content: bytes) -> File:
        limits = self.engine.settings.limits
        if len(content) > limits.max_file_bytes:
            raise InvalidRequest(f"File is too large: {len(content)} bytes; the maximum is {limits.max_file_bytes} bytes.", param="file")
        if purpose == "batch":
            if not filename.lower().endswith(".jsonl"):
                raise InvalidRequest("Invalid file format for Batch API. Must be .jsonl", param="file")
            if len(content) > limits.max_batch_file_bytes:
                raise InvalidRequest(
                    f"Batch input files must be at most {limits.max_batch_file_bytes} bytes; this one is {len(content)} bytes.", param="file"
                )
        return self._add_file(filename, purpose, content, self._now())

    def retrieve_file(self, file_id: str) -> File:
        return self._file(file_id)

    def download_file(self, file_id: str) -> File:
        return self._file(file_id)

    def delete_file(self, file_id: str) -> File:
        file = self._file(file_id)
        del self.files[file_id]
        return file

    def list_files(self, purpose: str | None = None, limit: int = 10_000, order: str = "desc", after: str | None = None) -> tuple[list[File], bool]:
        files = sorted(self.files.values(), key=lambda f: f.seq, reverse=(order == "desc"))
        if purpose:
            files = [f for f in files if f.purpose == purpose]
        return _page(files, after, limit)

    # -- batches -----------------------------------------------------------------------------------

    def create_batch(
        self,
        input_file_id: str,
        endpoint: str,
        completion_window: str,
        metadata: dict[str, str] | None = None,
        plan: BatchPlan | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Batch:
        file = self.files.get(input_file_id)
        if file is None:
            raise NotFound(f"No such File object: {input_file_id}", param="input_file_id")
        if file.purpose != "batch":
            raise InvalidRequest(f"File {input_file_id} has purpose {file.purpose!r}; a batch input file must have purpose 'batch'.", param="input_file_id")
        settings = self.engine.settings
        lines, errors = validate_input(file.content, endpoint, settings.limits.max_batch_requests, settings.limits.max_errors_listed)
        now = self._now()
        plan = plan or self.default_plan()
        if plan.validation_error and not errors:
            errors = [LineError(plan.validation_error, "Enqueued token limit reached for this model (simulated by the mock scenario).")]
            lines = []
        batch_id = self.engine.ids.new(self.batch_prefix)
        rng = random.Random(digest(settings.seed, batch_id))
        failed_before = [0]
        for _ in lines:
            failed_before.append(failed_before[-1] + (1 if rng.random() < plan.line_failure_rate else 0))
        batch = Batch(
            id=batch_id,
            endpoint=endpoint,
            input_file_id=input_file_id,
            completion_window=completion_window,
            metadata=metadata,
            plan=plan,
            expires_at=now + settings.durations.expiry_window,
            seq=self._next_seq(),
            lines=lines,
            validation_errors=errors,
            failed_before=failed_before,
            extra=dict(extra or {}),
        )
        self._enter(batch, "validating", now)
        self.batches[batch.id] = batch
        return batch

    def default_plan(self) -> BatchPlan:
        d = self.engine.settings.durations
        return BatchPlan(d.validating, d.in_progress, d.finalizing, d.cancelling, self.engine.settings.line_failure_rate)

    def retrieve_batch(self, batch_id: str) -> Batch:
        return self._batch(batch_id)

    def list_batches(self, after: str | None = None, limit: int = 20, statuses: set[str] | None = None) -> tuple[list[Batch], bool]:
        now = self._now()
        batches = sorted(self.batches.values(), key=lambda b: b.seq, reverse=True)
        for batch in batches:
            BATCH_LIFECYCLE.advance(batch, now, self._enter)
        if statuses:
            batches = [b for b in batches if b.state in statuses]
        return _page(batches, after, limit)

    def cancel_batch(self, batch_id: str) -> Batch:
        batch = self._batch(batch_id)
        if batch.state == "cancelling" or (batch.state == "cancelled" and self.cancel_event == "cancel_now"):
            return batch  # cancelling twice is harmless
        try:
            BATCH_LIFECYCLE.fire(batch, self.cancel_event, self._now(), self._enter)
        except IllegalTransition:
            raise InvalidRequest(f"Cannot cancel a batch with status '{batch.state}'.", param="batch_id") from None
        return batch

    def batch_output(self, batch_id: str) -> tuple[File | None, Batch]:
        """Portkey's /output: the output file if there is one."""
        batch = self._batch(batch_id)
        return (self.files.get(batch.output_file_id) if batch.output_file_id else None), batch

    def all_batches(self) -> list[Batch]:
        now = self._now()
        for batch in self.batches.values():
            BATCH_LIFECYCLE.advance(batch, now, self._enter)
        return list(self.batches.values())

    # -- lifecycle side effects ------------------------------------------------------------------

    def _enter(self, batch: Batch, state: str, at: float) -> None:
        if batch.state in ACTIVE and state not in ACTIVE and state != "completed":
            batch.done_when_stopped = batch.done(at)  # cancelled or expired: what ran so far stays
        elif state == "completed":
            batch.done_when_stopped = None  # a cancel that lost the race: every line ran
        record(batch, state, at)
        if state in TERMINAL and state != "failed":
            self._write_results(batch, at)

    def _write_results(self, batch: Batch, at: float) -> None:
        done = batch.done(at)
        reason = {"expired": "batch_expired", "cancelled": "batch_cancelled"}.get(batch.state)
        created = int(at)
        dims = self.engine.settings.embedding_dimensions
        out: list[str] = []
        err: list[str] = []
        tokens_in = tokens_out = 0
        started = "in_progress" in batch.moments
        for index, line in enumerate(batch.lines if started else []):
            key = digest(batch.id, index)
            record: dict[str, Any] = {"id": f"batch_req_{key[:32]}", "custom_id": line.custom_id}
            if index >= done:
                record["response"] = None
                record["error"] = {
                    "code": reason or "batch_expired",
                    "message": "This request could not be executed before the completion window expired."
                    if reason != "batch_cancelled"
                    else "This request was not executed because the batch was cancelled.",
                }
                err.append(json.dumps(record))
                continue
            failed = batch.failed_before[index + 1] > batch.failed_before[index]
            if failed:
                status, body = failure_body(key)
                record["response"] = {"status_code": status, "request_id": key[32:64], "body": body}
                record["error"] = None
                err.append(json.dumps(record))
            else:
                body = success_body(batch.endpoint, line, key, created, dims)
                i, o = usage_of(body)
                tokens_in, tokens_out = tokens_in + i, tokens_out + o
                record["response"] = {"status_code": 200, "request_id": key[32:64], "body": body}
                record["error"] = None
                out.append(json.dumps(record))
        if out:
            batch.output_file_id = self._add_file(f"{batch.id}_output.jsonl", "batch_output", ("\n".join(out) + "\n").encode(), at).id
        if err:
            batch.error_file_id = self._add_file(f"{batch.id}_error.jsonl", "batch_output", ("\n".join(err) + "\n").encode(), at).id
        batch.usage = {
            "input_tokens": tokens_in,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": tokens_out,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": tokens_in + tokens_out,
        }

    # -- fixtures: state preloaded from a file (mockserver.fixtures) -------------------------------------

    def load_fixture(self, kind: str, data: dict[str, Any]) -> None:
        """Preload a ``file`` or a ``batch`` in any status; raises ValueError on data it cannot use.

        file: ``id``, ``filename``, ``purpose`` (default batch), ``content`` (text) or ``lines`` (objects
        written as JSONL), ``created_at`` (epoch seconds; default now).

        batch: ``id``, ``endpoint`` (default /v1/chat/completions), ``completion_window`` (24h), ``metadata``,
        ``status`` (default validating), ``scenario`` (its plan: durations, failure rate), the input as
        ``input_file_id`` (a file loaded before) or ``requests`` (request bodies or whole JSONL lines) or
        neither (``request_counts.total`` generated requests, default 3), ``request_counts`` ({total,
        completed, failed}: which lines have run and failed), ``errors`` (a failed batch's validation errors),
        ``created_at`` (default: so that the batch has just reached ``status`` now), ``expires_at``,
        ``output_lines`` / ``error_lines`` (records that replace the generated output / error file of a
        terminal batch), ``extra`` (provider fields such as Phaseo's request_id, session_id, webhook).

        The batch goes through its lifecycle from ``validating`` to ``status`` at consistent moments, so a
        completed, expired or cancelled batch has the output and error files its counts imply, and a batch
        in an active status goes on moving with the clock.
        """
        if kind == "file":
            self._load_file(data)
        elif kind == "batch":
            self._load_batch(data)
        else:
            raise ValueError(f"unknown kind {kind!r} (expected file or batch)")

    def _load_file(self, data: dict[str, Any]) -> File:
        _known_keys(data, ("id", "filename", "purpose", "content", "lines", "created_at"), "file")
        if "content" in data and "lines" in data:
            raise ValueError("file: give either 'content' or 'lines', not both")
        content = data.get("content", "")
        if "lines" in data:
            content = "".join(json.dumps(line) + "\n" for line in data["lines"])
        if not isinstance(content, str):
            raise ValueError(f"file: 'content' must be text, got {type(content).__name__}")
        file_id = data.get("id")
        if file_id in self.files:
            raise ValueError(f"file: id {file_id!r} is already loaded")
        created = float(data.get("created_at", self._now()))
        return self._add_file(str(data.get("filename") or f"{file_id or 'input'}.jsonl"), str(data.get("purpose", "batch")), content.encode(), created, file_id)

    def _load_batch(self, data: dict[str, Any]) -> Batch:
        from .scenarios import plan_for  # scenarios builds on this module's BatchPlan

        _known_keys(data, BATCH_FIXTURE_KEYS, "batch")
        status = data.get("status", "validating")
        if status not in FIXTURE_PATHS:
            raise ValueError(f"batch: status must be one of {', '.join(FIXTURE_PATHS)}, got {status!r}")
        endpoint = str(data.get("endpoint", "/v1/chat/completions"))
        plan = plan_for(data.get("scenario"), self.default_plan(), self.engine.scenarios)
        batch_id = data.get("id") or self.engine.ids.new(self.batch_prefix)
        if not isinstance(batch_id, str):
            raise ValueError(f"batch: id must be a string, got {batch_id!r}")
        metadata = data.get("metadata")
        if metadata is not None and (
            not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
        ):
            raise ValueError(f"batch: metadata must map strings to strings, got {metadata!r}")
        counts_given = data.get("request_counts")
        if counts_given is not None and (
            not isinstance(counts_given, dict) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counts_given.values())
        ):
            raise ValueError(f"batch: request_counts must map total/completed/failed to whole numbers >= 0, got {counts_given!r}")
        if batch_id in self.batches:
            raise ValueError(f"batch: id {batch_id!r} is already loaded")
        counts = data.get("request_counts")
        lines, errors, input_file_id = self._fixture_input(data, endpoint, batch_id, (counts or {}).get("total", 3))
        if status == "failed":
            errors = errors or [LineError(**e) for e in data.get("errors", [])] or [
                LineError(plan.validation_error or "token_limit_exceeded", "Enqueued token limit reached (preloaded by a fixture).")
            ]
            lines = []
        elif errors:
            raise ValueError(f"batch: input file {input_file_id} is not a valid batch input ({errors[0].message}); only a failed batch may have one")
        path = FIXTURE_PATHS[status] if not (status == "cancelled" and self.cancel_event == "cancel_now") else ("validating", "in_progress", "cancelled")
        done = self._fixture_done(status, counts, len(lines))
        failed = int(counts.get("failed", 0)) if counts else None
        rng = random.Random(digest(self.engine.settings.seed, batch_id, "fixture"))
        if failed is None:
            failing = {i for i in range(len(lines)) if rng.random() < plan.line_failure_rate}
        else:
            failing = set(rng.sample(range(done), failed))
        failed_before = [0]
        for index in range(len(lines)):
            failed_before.append(failed_before[-1] + (index in failing))
        moments = self._fixture_moments(path, plan, data.get("created_at"), done, len(lines))
        created = moments[0]
        batch = Batch(
            id=batch_id, endpoint=endpoint, input_file_id=input_file_id, completion_window=str(data.get("completion_window", "24h")),
            metadata=data.get("metadata"), plan=plan,
            expires_at=float(data.get("expires_at", created + self.engine.settings.durations.expiry_window)),
            seq=self._next_seq(), lines=lines, validation_errors=errors, failed_before=failed_before, extra=dict(data.get("extra") or {}),
        )
        for state, at in zip(path, moments):
            if state in ("expired", "cancelling", "cancelled") or (state == "in_progress" and counts and math.isinf(plan.in_progress)):
                batch.done_when_stopped = done  # what ran before it stopped
            self._enter(batch, state, at)
        self._fixture_files(batch, data, status)
        self.batches[batch.id] = batch
        return batch

    def _fixture_input(self, data: dict[str, Any], endpoint: str, batch_id: str, total: int) -> tuple[list[InputLine], list[LineError], str]:
        limits = self.engine.settings.limits
        if "input_file_id" in data:
            file = self.files.get(data["input_file_id"])
            if file is None:
                raise ValueError(f"batch: input_file_id {data['input_file_id']!r} is not a file loaded before this batch")
            lines, errors = validate_input(file.content, endpoint, limits.max_batch_requests, limits.max_errors_listed)
            return lines, errors, file.id
        requests = data.get("requests")
        if requests is None:
            requests = [_example_body(endpoint, i) for i in range(int(total))]
        records = [
            r if isinstance(r, dict) and "custom_id" in r else {"custom_id": f"request-{i + 1}", "method": "POST", "url": endpoint, "body": r}
            for i, r in enumerate(requests)
        ]
        content = "".join(json.dumps(r) + "\n" for r in records).encode()
        file = self._add_file(f"{batch_id}_input.jsonl", "batch", content, self._now())
        lines, errors = validate_input(content, endpoint, limits.max_batch_requests, limits.max_errors_listed) if records else ([], [])
        return lines, errors, file.id

    @staticmethod
    def _fixture_done(status: str, counts: dict[str, int] | None, total: int) -> int:
        """Lines that have run: all once finalizing; else request_counts.completed + failed (default none)."""
        if counts is None:
            return total if status in ("finalizing", "completed") else 0
        if counts.get("total", total) != total:
            raise ValueError(f"batch: request_counts.total is {counts['total']} but the input has {total} requests")
        completed, failed = int(counts.get("completed", 0)), int(counts.get("failed", 0))
        done = completed + failed
        if min(completed, failed) < 0 or done > total:
            raise ValueError(f"batch: request_counts completed {completed} + failed {failed} exceed total {total}")
        if status in ("finalizing", "completed") and done != total:
            raise ValueError(f"batch: a {status} batch has run every request: completed + failed must be {total}, got {done}")
        if status in ("validating", "failed") and done:
            raise ValueError(f"batch: a {status} batch has run no request: completed and failed must be 0")
        return done

    def _fixture_moments(self, path: tuple[str, ...], plan: BatchPlan, created_at: Any, done: int, total: int) -> list[float]:
        """When each state of ``path`` was entered: from ``created_at``, or back from now so the last is now."""
        steps: list[float] = []
        expiry = self.engine.settings.durations.expiry_window
        for source, target in zip(path, path[1:]):
            if target == "expired":
                step = expiry - sum(steps)
            elif source == "in_progress" and (target != "finalizing" or done < total):
                step = plan.in_progress * done / total if done else 0.0  # stopped after ``done`` requests
            else:
                step = getattr(plan, source)
            if math.isinf(step):
                raise ValueError(f"batch: with scenario {plan.scenario!r} a batch never leaves {source!r}")
            steps.append(max(0.0, step))
        if path[-1] == "in_progress" and total and done < total and not math.isinf(plan.in_progress):
            steps.append(plan.in_progress * (done + 0.5) / total)  # now is half-way through the next request
        start = float(created_at) if created_at is not None else self._now() - sum(steps)
        moments = [start]
        for step in steps[: len(path) - 1]:
            moments.append(moments[-1] + step)
        return moments

    def _fixture_files(self, batch: Batch, data: dict[str, Any], status: str) -> None:
        for key, attr, suffix in (("output_lines", "output_file_id", "output"), ("error_lines", "error_file_id", "error")):
            if key not in data:
                continue
            if status not in ("completed", "expired", "cancelled"):
                raise ValueError(f"batch: '{key}' needs a status with results (completed, expired or cancelled), not {status!r}")
            content = "".join(json.dumps(record) + "\n" for record in data[key]).encode()
            file_id = getattr(batch, attr)
            if file_id is not None:
                self.files[file_id].content = content
            elif content:
                setattr(batch, attr, self._add_file(f"{batch.id}_{suffix}.jsonl", "batch_output", content, batch.entered_at).id)


BATCH_FIXTURE_KEYS = (
    "id", "endpoint", "completion_window", "metadata", "status", "scenario", "input_file_id", "requests", "request_counts",
    "errors", "created_at", "expires_at", "output_lines", "error_lines", "extra",
)

# the states a batch goes through to reach each status
FIXTURE_PATHS: dict[str, tuple[str, ...]] = {
    "validating": ("validating",),
    "failed": ("validating", "failed"),
    "in_progress": ("validating", "in_progress"),
    "finalizing": ("validating", "in_progress", "finalizing"),
    "completed": ("validating", "in_progress", "finalizing", "completed"),
    "expired": ("validating", "in_progress", "expired"),
    "cancelling": ("validating", "in_progress", "cancelling"),
    "cancelled": ("validating", "in_progress", "cancelling", "cancelled"),
}


def _known_keys(data: dict[str, Any], known: tuple[str, ...], kind: str) -> None:
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"{kind}: unknown key {unknown[0]!r} (expected one of: {', '.join(known)})")


def _example_body(endpoint: str, i: int) -> dict[str, Any]:
    kind = endpoint.rstrip("/").split("/v1/")[-1].lstrip("/")
    if kind == "embeddings":
        return {"model": "text-embedding-3-small", "input": f"Example text {i + 1}"}
    if kind == "completions":
        return {"model": "gpt-3.5-turbo-instruct", "prompt": f"Example prompt {i + 1}"}
    if kind == "responses":
        return {"model": "gpt-4o-mini", "input": f"Example question {i + 1}"}
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Example question {i + 1}"}]}


def _page(items: list[Any], after: str | None, limit: int) -> tuple[list[Any], bool]:
    """A cursor page: the items after the one whose id is ``after`` (an unknown cursor gives an empty page)."""
    start = 0
    if after:
        ids = [item.id for item in items]
        if after not in ids:
            return [], False
        start = ids.index(after) + 1
    page = items[start : start + limit]
    return page, start + limit < len(items)


__all__ = ["ACTIVE", "Batch", "BatchPlan", "File", "OpenAIBatchBackend"]
