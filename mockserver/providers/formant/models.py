"""Batch calls of one namespace, their calls and metrics, and the verbs the spec's operations call. No HTTP here.

Timeline of a batch (simulated seconds; Durations on the settings, or the scenario's own):
- ``pending`` for ``durations.validating`` (FormantAI validates the agent and the CSV first);
- then calls are dialled in waves of ``CONCURRENCY``, one wave per ``durations.call``; an attempt lasts a
  share of that slot depending on how it ends (a conversation longest, a busy line shortest);
- a busy, no_answer or socket_failure attempt is retried ``durations.retry_delay`` after it ended, up to the
  plan's ``max_attempts``; meanwhile the call is ``pending_retry``. The last attempt's outcome is final;
- the batch is ``completed`` when its last call has a final outcome.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from typing import Any

from ...core.engine import Engine
from ...core.errors import InvalidRequest, NotFound
from ...core.lifecycle import record
from ...core.outcomes import fraction, share
from ...core.timefmt import parse_iso
from .csvfile import Recipient
from .lifecycle import BATCH_CALL_LIFECYCLE, CALL_LIFECYCLE, FINAL_STATES, RETRYABLE
from .scenarios import BUILTIN, Plan, plan_for

# Calls of one batch on the line at once. FormantAI documents a concurrent-call limit
# (429 concurrent_call_limit_exceeded with max_calls) but not its value; 10 is our choice.
CONCURRENCY = 10
# The rate-limit window the headers report (the docs' example limit is 50). Reported, not enforced.
RATE_LIMIT = 50
RATE_WINDOW = 60.0

STATE_OF = {"success": "completed", "not_success": "completed"}  # other outcomes are their own state
BATCH_STATUSES = ("pending", "processing", "completed", "failed")
METRIC_KEYS = (
    "avg_duration_seconds", "busy_count", "completed_count", "failed_count", "in_progress_count", "no_answer_count",
    "pending_retry_count", "socket_failure_count", "success_count", "success_rate", "total_processed", "unreachable_count",
)


def _attempt_length(outcome: str, u: float) -> float:
    """An attempt's share of its wave's slot: long if a conversation happened, short if the line failed."""
    if outcome in STATE_OF:
        return 0.4 + 0.45 * u
    if outcome == "no_answer":
        return 0.6 + 0.25 * u  # rang out
    if outcome == "socket_failure":
        return 0.05 + 0.1 * u  # telephony connected, the voice stream never started
    return 0.02 + 0.05 * u  # busy, failed, unreachable: over at once


@dataclass(frozen=True)
class Attempt:
    outcome: str
    start: float
    end: float


@dataclass
class PhoneCall:
    """One CSV row: one outbound call and its attempts."""

    index: int
    phone: str
    parameters: dict[str, str]
    attempts: list[Attempt]
    state: str = "queued"
    entered_at: float = 0.0
    attempt: int = 0  # the attempt under way, or the last one

    @property
    def current(self) -> Attempt:
        return self.attempts[self.attempt]

    @property
    def is_last(self) -> bool:
        return self.attempt == len(self.attempts) - 1

    @property
    def final_state(self) -> str:
        outcome = self.attempts[-1].outcome
        return STATE_OF.get(outcome, outcome)

    @property
    def success(self) -> bool:
        return self.state == "completed" and self.current.outcome == "success"

    @property
    def duration(self) -> float:
        return self.current.end - self.current.start


@dataclass
class BatchCall:
    id: int
    name: str
    agent_id: int
    calls: list[PhoneCall]
    total_recipients: int
    scenario: str
    starts_at: float | None
    ends_at: float | None
    frozen: bool = False  # loaded from a fixture: never moves
    metrics_override: dict[str, Any] | None = None
    state: str = "pending"
    entered_at: float = 0.0
    moments: dict[str, float] = field(default_factory=dict)

    @property
    def created(self) -> float:
        return self.moments["pending"]

    @property
    def updated(self) -> float:
        """The last change of the batch or of any of its calls (calls must be advanced first)."""
        return max([*self.moments.values(), *(call.entered_at for call in self.calls)])

    @property
    def finished(self) -> float | None:
        return self.moments.get("completed", self.moments.get("failed"))

    def metrics(self, success_rate: str = "percent_of_recipients") -> dict[str, Any]:
        """Every count is the number of calls in that state now; ``total_processed`` counts the calls with a
        final outcome; ``success_rate`` is 100 * success_count / recipients (``percent_of_recipients``, the
        guide's convention) or success_count / total_processed in [0, 1] (``fraction_of_processed``); the
        average duration is over the connected (``completed``) calls, in simulated seconds."""
        if self.metrics_override is not None:
            return dict(self.metrics_override)
        counts = {state: 0 for state in (*FINAL_STATES, "in_progress", "pending_retry", "queued")}
        for call in self.calls:
            counts[call.state] += 1
        success = sum(1 for call in self.calls if call.success)
        processed = sum(counts[state] for state in FINAL_STATES)
        connected = [call.duration for call in self.calls if call.state == "completed"]
        return {
            "avg_duration_seconds": round(sum(connected) / len(connected), 2) if connected else 0.0,
            "busy_count": counts["busy"],
            "completed_count": counts["completed"],
            "failed_count": counts["failed"],
            "in_progress_count": counts["in_progress"],
            "no_answer_count": counts["no_answer"],
            "pending_retry_count": counts["pending_retry"],
            "socket_failure_count": counts["socket_failure"],
            "success_count": success,
            "success_rate": (round(100 * success / len(self.calls), 2) if self.calls else 0.0)
            if success_rate == "percent_of_recipients"
            else (success / processed if processed else 0.0),
            "total_processed": processed,
            "unreachable_count": counts["unreachable"],
        }


def _enter_call(call: PhoneCall, state: str, at: float) -> None:
    if state == "in_progress" and call.state == "pending_retry":
        call.attempt += 1
    record(call, state, at)


MAX_AGENT_ID = 2**63 - 1  # the docs show integer ids and state no range: a signed 64-bit id (our choice)
CALL_BYTES = 1024


class FormantBackend:
    """One namespace (API key) of FormantAI batch calls. Verbs are named after the spec's operationIds."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.batches: dict[int, BatchCall] = {}
        # Integer ids 1, 2, 3 ... per namespace. The counter lives in the backend (not in the engine-wide
        # IdFactory) so that it is per namespace and a snapshot/restore of the store brings it back too.
        self._last_id = 0
        self._window_start = -math.inf
        self._window_used = 0

    def _now(self) -> float:
        return self.engine.now()

    def _batch(self, batch_id: int) -> BatchCall:
        batch = self.batches.get(batch_id)
        if batch is None:
            raise NotFound(f"Batch call {batch_id} not found.", param="batch_id")
        self._advance(batch, self._now())
        return batch

    def _advance(self, batch: BatchCall, now: float) -> None:
        if batch.frozen:
            return
        for call in batch.calls:
            CALL_LIFECYCLE.advance(call, now, _enter_call)
        BATCH_CALL_LIFECYCLE.advance(batch, now, record)

    def _durations(self, plan: Plan) -> tuple[float, float, float]:
        """(validating, call, retry_delay) of ``plan``, the server's durations where it sets none."""
        d = self.engine.settings.durations
        return (
            d.validating if plan.validating is None else plan.validating,
            d.call if plan.call is None else plan.call,
            d.retry_delay if plan.retry_delay is None else plan.retry_delay,
        )

    def _plan_calls(self, batch_id: int, recipients: list[Recipient], plan: Plan, dial_from: float) -> list[PhoneCall]:
        seed = self.engine.settings.seed
        _, slot, retry_delay = self._durations(plan)
        calls = []
        for index, recipient in enumerate(recipients):
            start = dial_from + share(slot, index // CONCURRENCY) + share(slot, 0.1 * fraction(seed, batch_id, index, "start"))
            attempts: list[Attempt] = []
            for number in range(plan.max_attempts):
                # attempt 0 is sha256(seed, batch id, index), as every per-item outcome in the mock
                u = fraction(seed, batch_id, index) if number == 0 else fraction(seed, batch_id, index, "attempt", number)
                outcome = plan.pick(u)
                end = start + share(slot, _attempt_length(outcome, fraction(seed, batch_id, index, number, "length")))
                attempts.append(Attempt(outcome, start, end))
                if outcome not in RETRYABLE:
                    break
                start = end + retry_delay
            calls.append(PhoneCall(index, recipient.phone, dict(recipient.parameters), attempts))
        return calls

    # -- verbs ------------------------------------------------------------------------------------

    def create_batch_call(self, agent_id: int, name: str, recipients: list[Recipient], plan: Plan) -> BatchCall:
        if agent_id > MAX_AGENT_ID:
            raise InvalidRequest(f"'agent_id' must be at most {MAX_AGENT_ID} (a signed 64-bit integer).", param="agent_id")
        # the mock has no agents API: every positive agent id exists
        if agent_id < 1:
            raise NotFound(f"Agent {agent_id} not found.", param="agent_id")
        now = self._now()
        return self.add_batch_call(self.draft_batch_call(self.next_batch_id(), agent_id, name, recipients, plan, now))

    def next_batch_id(self) -> int:
        self._last_id += 1
        return self._last_id

    def draft_batch_call(self, batch_id: int, agent_id: int, name: str, recipients: list[Recipient], plan: Plan, now: float) -> BatchCall:
        """The batch created at ``now``, its calls planned, not yet in the namespace: a pure function of its
        inputs (so the planning of a large CSV can run in a worker thread); ``add_batch_call`` commits it."""
        calls = self._plan_calls(batch_id, recipients, plan, now + self._durations(plan)[0])
        batch = BatchCall(
            id=batch_id,
            name=name,
            agent_id=agent_id,
            calls=calls,
            total_recipients=len(calls),
            scenario=plan.scenario,
            starts_at=min(call.attempts[0].start for call in calls),
            ends_at=max(call.attempts[-1].end for call in calls),
        )
        record(batch, "pending", now)
        return batch

    def add_batch_call(self, batch: BatchCall) -> BatchCall:
        self.batches[batch.id] = batch
        return batch

    def stored_bytes(self) -> int:
        """What this namespace keeps, for the storage quota (about 1 KiB per planned call, as measured)."""
        return sum(CALL_BYTES * len(batch.calls) for batch in self.batches.values())

    def list_batch_calls(self, agent_id: int | None = None, limit: int = 20, offset: int = 0) -> tuple[list[BatchCall], int]:
        """A page of batches, newest first, and how many match the filter."""
        batches = sorted(self.batches.values(), key=lambda b: (b.created, b.id), reverse=True)
        if agent_id is not None:
            batches = [b for b in batches if b.agent_id == agent_id]
        page = batches[offset : offset + limit]
        now = self._now()
        for batch in page:
            self._advance(batch, now)
        return page, len(batches)

    def get_batch_call(self, batch_id: int) -> BatchCall:
        return self._batch(batch_id)

    def get_batch_call_metrics(self, batch_id: int) -> dict[str, Any]:
        return self._batch(batch_id).metrics(self.engine.settings.formant_success_rate)

    def rate_limit(self) -> tuple[int, int, float]:
        """Count one request in the current fixed window: (limit, remaining, when the window resets)."""
        now = self._now()
        start = math.floor(now / RATE_WINDOW) * RATE_WINDOW
        if start != self._window_start:
            self._window_start, self._window_used = start, 0
        self._window_used += 1
        return RATE_LIMIT, max(0, RATE_LIMIT - self._window_used), start + RATE_WINDOW

    # -- admin and fixtures ------------------------------------------------------------------------

    def all_batches(self) -> list[BatchCall]:
        now = self._now()
        for batch in self.batches.values():
            self._advance(batch, now)
        return list(self.batches.values())

    def describe(self, batch: BatchCall) -> dict[str, Any]:
        return {"id": batch.id, "status": batch.state, "created": int(batch.created), "total_recipients": batch.total_recipients}

    def load_fixture(self, kind: str, data: dict[str, Any]) -> None:
        """Preload a ``batch_call``: ``id``, ``name``, ``agent_id``, ``status`` (required), ``total_recipients``,
        ``created_at`` / ``updated_at`` (ISO-8601 or epoch seconds) and ``metrics`` (optional). It never moves.
        With ``metrics``, the metrics endpoint answers exactly that dict; without, the calls are simulated
        with the default scenario and shown as they stand at ``status``."""
        if kind != "batch_call":
            raise ValueError(f"formant fixtures: unknown kind {kind!r} (expected batch_call)")
        missing = [k for k in ("id", "name", "agent_id", "status") if k not in data]
        if missing:
            raise ValueError(f"formant fixture batch_call: missing {', '.join(missing)}")
        status = data["status"]
        if status not in BATCH_STATUSES:
            raise ValueError(f"formant fixture batch_call: status must be one of {', '.join(BATCH_STATUSES)}, got {status!r}")
        batch_id, metrics = int(data["id"]), data.get("metrics")
        if metrics is not None and (not isinstance(metrics, dict) or set(metrics) - set(METRIC_KEYS)):
            raise ValueError(f"formant fixture batch_call {batch_id}: metrics must be a mapping with keys among {', '.join(METRIC_KEYS)}")
        for key, value in (metrics or {}).items():
            whole = key.endswith("_count") or key == "total_processed"
            if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)) or value < 0:
                raise ValueError(f"formant fixture batch_call {batch_id}: metrics.{key} must be a {'whole ' if whole else ''}number >= 0, got {value!r}")
        created = _seconds(data.get("created_at"), self._now())
        updated = _seconds(data.get("updated_at"), created)
        if metrics is not None:
            counted = sum(v for k, v in metrics.items() if k.endswith("_count") and k != "success_count")
            total = int(data.get("total_recipients", counted))
            calls: list[PhoneCall] = []
        else:
            total = int(data.get("total_recipients", 0))
            placeholders = [Recipient(i + 2, "+10000000000", {}) for i in range(total)]
            calls = self._plan_calls(batch_id, placeholders, plan_for("default", BUILTIN), created)
            for call in calls:
                if status in ("completed", "failed"):
                    call.attempt, call.state = len(call.attempts) - 1, call.final_state
                elif status == "processing":
                    call.state = "in_progress"
                call.entered_at = updated
        batch = BatchCall(
            batch_id, str(data["name"]), int(data["agent_id"]), calls, total, "fixture", None, None,
            frozen=True, metrics_override=metrics,
        )
        record(batch, "pending", created)
        if status != "pending":
            record(batch, status, updated)
        self.batches[batch_id] = batch
        self._last_id = max(self._last_id, batch_id)


def _seconds(value: Any, default: float) -> float:
    """ISO-8601 text or epoch seconds (as YAML may give either) -> epoch seconds."""
    if value is None:
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, datetime.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=datetime.UTC)).timestamp()
    return parse_iso(str(value))


__all__ = ["BatchCall", "FormantBackend", "PhoneCall"]
