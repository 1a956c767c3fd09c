"""Files and batches of one namespace, and the verbs the spec's operations call. No HTTP here.

Reads are pure: a batch's state is computed from its timestamps when it is read (lifecycle replay), and its
result files (output and error) have ids derived from the seed and the batch id when the batch is created.
They appear in the file listing as soon as the batch has finished, whoever looked, and their content is
built on first use (download or metadata), never on a batch read or a batch list.
"""

from __future__ import annotations

import bisect
import json
import math
import random
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from ...core.engine import Engine
from ...core.errors import InvalidRequest, NotFound
from ...core.lifecycle import IllegalTransition, record
from ...core.outcomes import derived_id, digest
from ...core.pages import cursor_page
from .inputs import InputLine, LineError, validate_input
from .lifecycle import ACTIVE, BATCH_LIFECYCLE, TERMINAL
from .results import example_body, failure_body, row_json, success_row_writer, usage_counter

BATCH_FILE_TTL = 30 * 86_400  # files with purpose=batch expire after 30 days


@dataclass(slots=True)
class File:
    id: str
    filename: str
    purpose: str
    stored: bytes | None  # None: a result file whose content is built on first use
    created_at: float
    seq: float  # order among the namespace's files at the same created_at
    expires_at: float | None = None
    batch: Batch | None = None  # the batch a result file belongs to
    role: str | None = None  # "output" or "error" for a result file

    @property
    def content(self) -> bytes:
        if self.stored is None:
            self.stored = b"" if self.batch is None else self.batch.result_content(self.role or "output")
        return self.stored

    @content.setter
    def content(self, value: bytes) -> None:
        self.stored = value

    @property
    def built(self) -> bool:
        return self.stored is not None

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


@dataclass(frozen=True, slots=True)
class BatchContext:
    """What every batch of a namespace shares: the seed and file prefix its result ids derive from."""

    seed: int | None
    file_prefix: str
    embedding_dimensions: int


NO_FAILURES: tuple[int, ...] = ()
NO_ERRORS: tuple[LineError, ...] = ()
NO_EXTRA: dict[str, Any] = {}  # shared by the batches with no provider extras (never written to)


@dataclass(slots=True, weakref_slot=True)  # the webhook projections cache by weak reference
class Batch:
    """One batch: what it was created with, and the moments its states were entered. Compact (slots, shared
    parsed lines and plans, no per-batch failure table when no line fails) so idle batches stay cheap."""

    id: str
    endpoint: str
    input_file_id: str
    completion_window: str
    metadata: dict[str, str] | None
    plan: BatchPlan
    expires_at: float
    seq: int
    lines: list[InputLine]
    validation_errors: list[LineError] | tuple[LineError, ...]
    failures: tuple[int, ...]  # indexes of the lines that fail, ascending
    context: BatchContext
    model: str | None = None  # the model the lines ask for (validation makes it one per batch)
    state: str = "validating"
    entered_at: float = 0.0
    moments: dict[str, float] = field(default_factory=dict)
    done_when_stopped: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # result file content given by a fixture instead of the generated one: role -> bytes
    given_results: dict[str, bytes] | None = None
    cached_usage: dict[str, Any] | None = None
    cached_ids: tuple[str, str] | None = None

    @property
    def result_ids(self) -> tuple[str, str]:
        """The ids of the output and error files: a function of the seed and the batch id alone, so they are
        fixed from creation (derived on first need rather than stored, to keep idle batches small)."""
        if self.cached_ids is None:
            seed, prefix = self.context.seed, self.context.file_prefix
            self.cached_ids = (derived_id(prefix, seed, self.id, "output"), derived_id(prefix, seed, self.id, "error"))
        return self.cached_ids

    @property
    def output_id(self) -> str:
        return self.result_ids[0]

    @property
    def error_id(self) -> str:
        return self.result_ids[1]

    @property
    def created_at(self) -> float:
        return self.moments["validating"]

    @property
    def total(self) -> int:
        return 0 if self.state in ("validating", "failed") or "in_progress" not in self.moments else len(self.lines)

    def failed_among(self, done: int) -> int:
        """Failed lines among the first ``done``."""
        return bisect.bisect_left(self.failures, done) if self.failures else 0

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
        failed = self.failed_among(done)
        return {"total": self.total, "completed": done - failed, "failed": failed}

    def timestamp(self, state: str) -> int | None:
        at = self.moments.get(state)
        return None if at is None else int(at)

    # -- results: what a finished batch produced, computed from the batch alone -------------------------

    @property
    def has_results(self) -> bool:
        return self.state in TERMINAL and self.state != "failed"

    def _result_roles(self) -> tuple[bool, bool]:
        """(has an output file, has an error file), from the counts alone."""
        given = self.given_results or {}
        if not self.has_results or "in_progress" not in self.moments:
            return bool(given.get("output")), bool(given.get("error"))
        done = self.done(self.entered_at)
        failed = self.failed_among(done)
        return (bool(given.get("output")) or done - failed > 0), (bool(given.get("error")) or failed > 0 or done < len(self.lines))

    def result_file_ids(self) -> tuple[str | None, str | None]:
        """(output_file_id, error_file_id) as the batch object shows them: set once it has finished with results."""
        if not self.has_results:
            return None, None
        has_output, has_error = self._result_roles()
        output_id, error_id = self.result_ids
        return (output_id if has_output else None), (error_id if has_error else None)

    @property
    def output_file_id(self) -> str | None:
        return self.result_file_ids()[0]

    @property
    def error_file_id(self) -> str | None:
        return self.result_file_ids()[1]

    @property
    def usage(self) -> dict[str, Any] | None:
        """Tokens of the lines that succeeded (a finished batch with results only); counted once, without
        building the result bodies."""
        if not self.has_results:
            return None
        if self.cached_usage is None:
            tokens_in = tokens_out = 0
            if "in_progress" in self.moments:
                done = self.done(self.entered_at)
                failures = set(self.failures[: self.failed_among(done)])
                count = usage_counter(self.endpoint)
                for index in range(done):
                    if index not in failures:
                        i, o = count(self.lines[index])
                        tokens_in, tokens_out = tokens_in + i, tokens_out + o
            self.cached_usage = {
                "input_tokens": tokens_in,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": tokens_out,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": tokens_in + tokens_out,
            }
        return self.cached_usage

    def result_content(self, role: str) -> bytes:
        """The JSONL of the output or error file, built from the batch (the same bytes whenever it is built)."""
        if self.given_results and role in self.given_results:
            return self.given_results[role]
        at = self.entered_at
        done = self.done(at)
        reason = {"expired": "batch_expired", "cancelled": "batch_cancelled"}.get(self.state)
        created = int(at)
        dims = self.context.embedding_dimensions
        rows: list[bytes] = []
        failures = set(self.failures)
        started = "in_progress" in self.moments
        success_row = success_row_writer(self.endpoint)
        for index, line in enumerate(self.lines if started else []):
            undone = index >= done
            failed = not undone and index in failures
            if (role == "output") == (undone or failed):
                continue
            key = sha256(f"{self.id}:{index}".encode()).hexdigest()  # digest(self.id, index), inlined
            if not undone and not failed:
                rows.append(success_row(line, key, created, dims))
                continue
            row: dict[str, Any] = {"id": f"batch_req_{key[:32]}", "custom_id": line.custom_id}
            if undone:
                row["response"] = None
                row["error"] = {
                    "code": reason or "batch_expired",
                    "message": "This request could not be executed before the completion window expired."
                    if reason != "batch_cancelled"
                    else "This request was not executed because the batch was cancelled.",
                }
            else:
                status, body = failure_body(key)
                row["response"] = {"status_code": status, "request_id": "req_" + key[32:64], "body": body}
                row["error"] = None
            rows.append(row_json(row))
        return b"\n".join(rows) + b"\n" if rows else b""


class OpenAIBatchBackend:
    """One namespace's files and batches. Verbs are named after the specs' operationIds.

    Batches are kept in creation order (``_order``), so a page of the list costs O(page) and ``after`` is
    found in O(log n); ``_next_due`` is the earliest moment any batch changes state by itself, so the verbs
    that need every batch up to date (file listing, status filters) skip the walk while nothing is due."""

    def __init__(self, engine: Engine, cancel_event: str = "cancel", file_prefix: str = "file-", batch_prefix: str = "batch_") -> None:
        self.engine = engine
        self.cancel_event = cancel_event
        self.file_prefix = file_prefix
        self.batch_prefix = batch_prefix
        self.files: dict[str, File] = {}
        self.batches: dict[str, Batch] = {}
        self._order: list[Batch] = []
        self._seq = 0
        self._next_due = math.inf
        self._parsed: dict[tuple[str, str, int, int], tuple[list[InputLine], list[LineError], str | None]] = {}
        self._plans: tuple[Any, BatchPlan] | None = None
        self._context = BatchContext(engine.settings.seed, file_prefix, engine.settings.embedding_dimensions)

    # -- helpers -----------------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _now(self) -> float:
        return self.engine.now()

    def _file(self, file_id: str) -> File:
        file = self.files.get(file_id)
        if file is None:
            self.settle()  # a result file of a batch that has finished since anyone looked
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
            stored=content,
            created_at=created_at,
            seq=self._next_seq(),
            expires_at=created_at + BATCH_FILE_TTL if purpose == "batch" else None,
        )
        self.files[file.id] = file
        return file

    def _schedule(self, batch: Batch) -> None:
        """Note when ``batch`` next changes state by itself (after a create, a cancel, a fixture)."""
        moment = BATCH_LIFECYCLE.next_moment(batch)
        if moment is not None and moment < self._next_due:
            self._next_due = moment

    def settle(self, now: float | None = None) -> None:
        """Bring every batch up to ``now`` (a walk only if some batch is due): their states are then current
        and the result files of those that finished are listed."""
        now = self._now() if now is None else now
        if now < self._next_due:
            return
        next_due = math.inf
        for batch in self._order:
            if batch.state in TERMINAL:
                continue
            BATCH_LIFECYCLE.advance(batch, now, self._enter)
            moment = BATCH_LIFECYCLE.next_moment(batch) if batch.state not in TERMINAL else None
            if moment is not None and moment < next_due:
                next_due = moment
        self._next_due = next_due

    def stored_bytes(self) -> int:
        """What this namespace keeps, for the storage quota: the content of its files (inputs, and the result
        files built so far; an unbuilt result file costs nothing yet)."""
        return sum(len(file.stored) for file in self.files.values() if file.stored is not None)

    # -- files -------------------------------------------------------------------------------------

    def create_file(self, filename: str, purpose: str, content: bytes, expires_after: int | None = None) -> File:
        """``expires_after``: seconds after creation the file expires (OpenAI's ``expires_after`` with anchor
        ``created_at``); None keeps the default (30 days for ``batch`` files, never for the others)."""
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
        file = self._add_file(filename, purpose, content, self._now())
        if expires_after is not None:
            file.expires_at = file.created_at + expires_after
        return file

    def retrieve_file(self, file_id: str) -> File:
        return self._file(file_id)

    def download_file(self, file_id: str) -> File:
        return self._file(file_id)

    def delete_file(self, file_id: str) -> File:
        file = self._file(file_id)
        del self.files[file_id]
        for key in [key for key in self._parsed if key[0] == file_id]:
            del self._parsed[key]
        return file

    def list_files(self, purpose: str | None = None, limit: int = 10_000, order: str = "desc", after: str | None = None) -> tuple[list[File], bool]:
        self.settle()
        files = sorted(self.files.values(), key=lambda f: (f.created_at, f.seq), reverse=(order == "desc"))
        if purpose:  # the cursor keeps its place whatever its own purpose (it is an object id, as OpenAI's)
            files = [f for f in files if f.purpose == purpose or f.id == after]
        return cursor_page(files, limit, after)

    # -- batches -----------------------------------------------------------------------------------

    def parse_input(self, file_id: str, endpoint: str) -> tuple[list[InputLine], list[LineError], str | None]:
        """The validated lines of an input file for ``endpoint`` (and the model they ask for), parsed once per
        file: every batch made from the file shares them. Safe to call off the event loop (pure, cached)."""
        limits = self.engine.settings.limits
        key = (file_id, endpoint, limits.max_batch_requests, limits.max_errors_listed)
        parsed = self._parsed.get(key)
        if parsed is None:
            file = self.files.get(file_id)
            if file is None:  # deleted meanwhile
                raise NotFound(f"No such File object: {file_id}", param="input_file_id")
            lines, errors = validate_input(file.content, endpoint, limits.max_batch_requests, limits.max_errors_listed)
            model = next((line.body["model"] for line in lines if isinstance(line.body.get("model"), str)), None)
            parsed = self._parsed[key] = (lines, errors, model)
        return parsed

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
        lines, errors, model = self.parse_input(input_file_id, endpoint)
        now = self._now()
        plan = plan or self.default_plan()
        if plan.validation_error and not errors:
            errors = [LineError(plan.validation_error, "Enqueued token limit reached for this model (simulated by the mock scenario).")]
            lines, model = [], None
        batch_id = self.engine.ids.new(self.batch_prefix)
        failures = NO_FAILURES
        if plan.line_failure_rate > 0 and lines:
            rng = random.Random(digest(settings.seed, batch_id))
            failures = tuple(i for i in range(len(lines)) if rng.random() < plan.line_failure_rate)
        batch = self._new_batch(
            batch_id, endpoint, input_file_id, completion_window, metadata, plan, now + settings.durations.expiry_window,
            lines, errors, failures, model, extra,
        )
        record(batch, "validating", now)  # what _enter does for the first state
        self._register(batch, min(now + plan.validating, batch.expires_at))  # its next moment, known without a search
        return batch

    def _new_batch(
        self, batch_id: str, endpoint: str, input_file_id: str, completion_window: str, metadata: dict[str, str] | None,
        plan: BatchPlan, expires_at: float, lines: list[InputLine], errors: list[LineError], failures: tuple[int, ...],
        model: str | None, extra: dict[str, Any] | None,
    ) -> Batch:
        settings = self.engine.settings
        context = self._context
        if context.seed != settings.seed or context.embedding_dimensions != settings.embedding_dimensions:
            context = self._context = BatchContext(settings.seed, self.file_prefix, settings.embedding_dimensions)
        self._seq += 1
        return Batch(  # positional (the field order of Batch): a third cheaper than keywords, 10^6 times
            batch_id, endpoint, input_file_id, completion_window, metadata, plan, expires_at, self._seq, lines,
            errors or NO_ERRORS, failures, context, model, "validating", 0.0, {}, None, dict(extra) if extra else NO_EXTRA,
        )

    def _register(self, batch: Batch, due: float | None = None) -> None:
        self.batches[batch.id] = batch
        self._order.append(batch)
        if due is None:
            self._schedule(batch)
        elif due < self._next_due:
            self._next_due = due

    def _expire_outputs(self, batch: Batch) -> None:
        """``output_expires_after`` (kept in ``batch.extra``): the output and error files expire that many seconds
        after they are created (OpenAI's BatchFileExpirationAfter, anchor ``created_at``)."""
        seconds = (batch.extra.get("output_expires_after") or {}).get("seconds")
        for file_id in (batch.output_file_id, batch.error_file_id):
            if seconds is not None and file_id in self.files:
                self.files[file_id].expires_at = self.files[file_id].created_at + seconds

    def default_plan(self) -> BatchPlan:
        settings = self.engine.settings
        key = (settings.durations, settings.line_failure_rate)
        if self._plans is None or self._plans[0][0] is not key[0] or self._plans[0][1] != key[1]:  # shared while the settings stay
            d = settings.durations
            self._plans = (key, BatchPlan(d.validating, d.in_progress, d.finalizing, d.cancelling, settings.line_failure_rate))
        return self._plans[1]

    def retrieve_batch(self, batch_id: str) -> Batch:
        return self._batch(batch_id)

    def list_batches(self, after: str | None = None, limit: int = 20, statuses: set[str] | None = None) -> tuple[list[Batch], bool]:
        """Newest first. Without a status filter a page costs O(page): only its batches are brought up to date."""
        now = self._now()
        start = len(self._order) - 1
        if after:
            anchor = self.batches.get(after)
            if anchor is None:
                return [], False
            start = bisect.bisect_left(self._order, anchor.seq, key=lambda b: b.seq) - 1
        if statuses:
            self.settle(now)  # the cursor keeps its place whatever its own status
        page: list[Batch] = []
        index = start
        while index >= 0 and len(page) <= limit:
            batch = self._order[index]
            index -= 1
            if statuses:
                if batch.state not in statuses:
                    continue
            else:
                BATCH_LIFECYCLE.advance(batch, now, self._enter)
            page.append(batch)
        has_more = len(page) > limit
        return page[:limit], has_more

    def cancel_batch(self, batch_id: str) -> Batch:
        batch = self._batch(batch_id)
        if batch.state == "cancelling" or (batch.state == "cancelled" and self.cancel_event == "cancel_now"):
            return batch  # cancelling twice is harmless
        try:
            BATCH_LIFECYCLE.fire(batch, self.cancel_event, self._now(), self._enter)
        except IllegalTransition:
            raise InvalidRequest(f"Cannot cancel a batch with status '{batch.state}'.", param="batch_id") from None
        self._schedule(batch)
        return batch

    def batch_output(self, batch_id: str) -> tuple[File | None, Batch]:
        """Portkey's /output: the output file if there is one."""
        batch = self._batch(batch_id)
        return (self.files.get(batch.output_file_id) if batch.output_file_id else None), batch

    def all_batches(self) -> list[Batch]:
        now = self._now()
        for batch in self._order:
            BATCH_LIFECYCLE.advance(batch, now, self._enter)
        return list(self._order)

    def describe(self, batch: Batch) -> dict[str, Any]:
        """The admin API's row (``GET /_mock/batches``)."""
        return {"id": batch.id, "status": batch.state}

    # -- lifecycle side effects ------------------------------------------------------------------

    def _enter(self, batch: Batch, state: str, at: float) -> None:
        if batch.state in ACTIVE and state not in ACTIVE and state != "completed":
            batch.done_when_stopped = batch.done(at)  # cancelled or expired: what ran so far stays
        elif state == "completed":
            batch.done_when_stopped = None  # a cancel that lost the race: every line ran
        record(batch, state, at)
        if state in TERMINAL and state != "failed":
            self._list_results(batch, at)

    def _list_results(self, batch: Batch, at: float) -> None:
        """The batch's result files join the file listing (their ids were fixed at creation; their content is
        built on first use). Ordered by the moment the batch finished, then just after the batch itself."""
        has_output, has_error = batch._result_roles()
        for present, file_id, role, offset in ((has_output, batch.output_id, "output", 0.25), (has_error, batch.error_id, "error", 0.5)):
            if present and file_id not in self.files:
                self.files[file_id] = File(
                    id=file_id, filename=f"{batch.id}_{role}.jsonl", purpose="batch_output", stored=None,
                    created_at=at, seq=batch.seq + offset, batch=batch, role=role,
                )
        self._expire_outputs(batch)

    # -- fixtures: state preloaded from a file (mockserver.config.fixtures) -------------------------------------

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
        failures = tuple(sorted(failing))
        moments = self._fixture_moments(path, plan, data.get("created_at"), done, len(lines))
        created = moments[0]
        model = next((line.body["model"] for line in lines if isinstance(line.body.get("model"), str)), None)
        batch = self._new_batch(
            batch_id, endpoint, input_file_id, str(data.get("completion_window", "24h")), data.get("metadata"), plan,
            float(data.get("expires_at", created + self.engine.settings.durations.expiry_window)),
            lines, errors, failures, model, data.get("extra"),
        )
        self._fixture_results(batch, data, status)
        for state, at in zip(path, moments):
            if state in ("expired", "cancelling", "cancelled") or (state == "in_progress" and counts and math.isinf(plan.in_progress)):
                batch.done_when_stopped = done  # what ran before it stopped
            self._enter(batch, state, at)
        self._register(batch)
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
            requests = [example_body(endpoint, i) for i in range(int(total))]
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

    @staticmethod
    def _fixture_results(batch: Batch, data: dict[str, Any], status: str) -> None:
        """``output_lines`` / ``error_lines``: the content of the result files instead of the generated one."""
        for key, role in (("output_lines", "output"), ("error_lines", "error")):
            if key not in data:
                continue
            if status not in ("completed", "expired", "cancelled"):
                raise ValueError(f"batch: '{key}' needs a status with results (completed, expired or cancelled), not {status!r}")
            content = "".join(json.dumps(record) + "\n" for record in data[key]).encode()
            batch.given_results = {**(batch.given_results or {}), role: content}


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


__all__ = ["ACTIVE", "Batch", "BatchPlan", "File", "OpenAIBatchBackend"]
