"""Retell batch calls (``POST /create-batch-call``) and the phone calls they make, on the simulated clock.

No HTTP here. A batch call holds one task per recipient. Its calls are dialled in waves: at most
``concurrency - reserved_concurrency`` at once (Retell's default concurrency is 20 concurrent calls,
docs.retellai.com/deploy/concurrency; ``reserved_concurrency`` is "concurrency reserved for all other calls
that are not triggered by batch calls", OAS-RTL), one wave per ``Durations.call`` seconds, starting at
``trigger_timestamp`` (or at once) and only inside ``call_time_window`` when one is given. Every moment and
outcome is fixed when the batch call is created (ids and ``sha256`` fractions), so reads never change them.

Retell exposes no read of the batch call itself (the SDK's ``batch_call`` resource has only
``create_batch_call``); its calls are read like any call: ``POST /v3/list-calls`` with
``filter_criteria.batch_call_id`` and ``GET /v2/get-call/{call_id}``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...core.engine import Engine
from ...core.errors import InvalidRequest, Unprocessable
from ...core.lifecycle import record
from ...core.outcomes import digest, fraction
from ...core.pages import cursor_page
from . import call_filters
from .lifecycle import CALL_LIFECYCLE, CALL_RESULTS
from .scenarios import CallPlan

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_TIMEZONE = "America/Los_Angeles"  # OAS-RTL CallTimeWindow.timezone: "Defaults to America/Los_Angeles"
ASSET_MISSING = "Cannot find requested asset under given api key."
# how each outcome is reported (Retell's disconnection_reason enum, SDK types/call_response.py)
REASONS = {
    "ended": ("user_hangup", "agent_hangup"),
    "not_connected": ("dial_no_answer", "dial_busy"),
    "error": ("error_unknown",),
}


@dataclass
class PhoneCall:
    """One task of a batch call as the outbound phone call it becomes."""

    id: str
    batch_id: str
    index: int
    task: dict[str, Any]
    from_number: str
    agent_id: str
    agent_version: int
    outcome: str
    reason: str
    dial_at: float | None
    connect_at: float | None  # only answered calls connect
    end_at: float | None
    seq: int
    state: str = "queued"
    entered_at: float = 0.0
    moments: dict[str, float] = field(default_factory=dict)

    @property
    def visible(self) -> bool:
        """A queued task is not a call yet: Retell issues the call id when it dials."""
        return self.state != "queued"


@dataclass
class BatchCall:
    id: str
    name: str
    from_number: str
    scheduled: float  # seconds
    call_time_window: dict[str, Any] | None
    reserved_concurrency: int | None
    calls: list[PhoneCall]
    scenario: str
    created: float


# -- call time windows ------------------------------------------------------------------------------


def canonical_window(window: dict[str, Any] | None) -> dict[str, Any] | None:
    """The window as Retell answers it ("canonicalized"), or a 400 for one Retell refuses."""
    if window is None:
        return None
    spans = window.get("windows") or []
    if not spans:
        raise InvalidRequest("call_time_window.windows must contain at least one window.", param="call_time_window")
    for span in spans:
        start, end = span["start"], span["end"]
        if not 0 <= start < end <= 1440:
            raise InvalidRequest(
                f"call_time_window: each window needs 0 <= start < end <= 1440 minutes (no cross-midnight windows), got {start}-{end}.",
                param="call_time_window",
            )
    zone = window.get("timezone") or DEFAULT_TIMEZONE
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest(f"call_time_window.timezone {zone!r} is not an IANA timezone.", param="call_time_window") from None
    result: dict[str, Any] = {
        "windows": [{"start": span["start"], "end": span["end"]} for span in sorted(spans, key=lambda s: (s["start"], s["end"]))],
        "timezone": zone,
    }
    if window.get("day"):
        result["day"] = [d for d in DAYS if d in window["day"]]
    return result


def next_open(moment: float, window: dict[str, Any] | None) -> float:
    """The first moment >= ``moment`` inside the window (the window is canonical; no window: ``moment``)."""
    if window is None or moment == float("inf"):
        return moment
    zone = ZoneInfo(window["timezone"])
    days = set(window.get("day") or DAYS)
    local = datetime.fromtimestamp(moment, zone)
    midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
    for offset in range(8):
        day = midnight + timedelta(days=offset)
        day = datetime(day.year, day.month, day.day, tzinfo=zone)  # wall-clock midnight (DST-safe)
        if DAYS[day.weekday()] not in days:
            continue
        for span in window["windows"]:
            start = (day + timedelta(minutes=span["start"])).timestamp()
            end = (day + timedelta(minutes=span["end"])).timestamp()
            if moment < end:
                return max(moment, start)
    return moment  # unreachable for a valid window (every week has an allowed day)


def _share(step: float, share: float) -> float:
    return 0.0 if share == 0 else step * share


# -- the namespace's batch calls --------------------------------------------------------------------


class BatchCalls:
    """Batch calls and their phone calls of one namespace (part of ``RetellBackend``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.batches: dict[str, BatchCall] = {}
        self.calls: dict[str, PhoneCall] = {}
        self._seq = 0

    def create_batch_call(
        self,
        from_number: str,
        tasks: list[dict[str, Any]],
        plan: CallPlan,
        name: str | None = None,
        trigger_timestamp: float | None = None,
        reserved_concurrency: int | None = None,
        call_time_window: dict[str, Any] | None = None,
        now: float | None = None,
        batch_id: str | None = None,
        call_ids: list[str | None] | None = None,
    ) -> BatchCall:
        _check_numbers(from_number, tasks)
        window = canonical_window(call_time_window)
        limit = plan.concurrency
        if reserved_concurrency is not None and reserved_concurrency >= limit:
            raise InvalidRequest(
                f"reserved_concurrency ({reserved_concurrency}) must be lower than the concurrency limit ({limit}): "
                "no concurrency would be left for the batch call.",
                param="reserved_concurrency",
            )
        now = self.engine.now() if now is None else now
        batch_id = batch_id or self.engine.ids.hex("batch_call_", 21)
        scheduled = now if trigger_timestamp is None else max(now, trigger_timestamp / 1000.0)
        slots = limit - (reserved_concurrency or 0)
        step = self.engine.settings.durations.call if plan.call is None else plan.call
        seed = self.engine.settings.seed
        wave_starts: list[float] = []
        calls = []
        for index, task in enumerate(tasks):
            wave = index // slots
            while len(wave_starts) <= wave:
                previous = wave_starts[-1] + step if wave_starts else scheduled
                wave_starts.append(next_open(previous, window))
            dial_at = wave_starts[wave]
            outcome = plan.pick(fraction(seed, batch_id, index))
            reasons = REASONS[outcome]
            reason = reasons[int(fraction(seed, batch_id, index, "reason") * len(reasons))]
            connect_at = end_at = None
            if outcome == "ended":  # rings 5-15% of a slot, talks 30-75% of one
                connect_at = dial_at + _share(step, 0.05 + 0.1 * fraction(seed, batch_id, index, "ring"))
                end_at = connect_at + _share(step, 0.3 + 0.45 * fraction(seed, batch_id, index, "talk"))
            elif outcome == "not_connected":  # rings out in 20-40% of a slot
                end_at = dial_at + _share(step, 0.2 + 0.2 * fraction(seed, batch_id, index, "ring"))
            else:
                end_at = dial_at + _share(step, 0.05 + 0.15 * fraction(seed, batch_id, index, "ring"))
            self._seq += 1
            call = PhoneCall(
                id=(call_ids[index] if call_ids and index < len(call_ids) else None) or self.engine.ids.hex("", 32),
                batch_id=batch_id,
                index=index,
                task=copy.deepcopy(task),
                from_number=from_number,
                agent_id=task.get("override_agent_id") or _bound_agent(from_number),
                agent_version=task["override_agent_version"] if isinstance(task.get("override_agent_version"), int) else 0,
                outcome=outcome,
                reason=reason,
                dial_at=dial_at,
                connect_at=connect_at,
                end_at=end_at,
                seq=self._seq,
            )
            calls.append(call)
        batch = BatchCall(batch_id, name or "", from_number, scheduled, window, reserved_concurrency, calls, plan.scenario, now)
        self.batches[batch.id] = batch
        for call in calls:
            self.calls[call.id] = call
        return batch

    # -- reads --------------------------------------------------------------------------------------

    def _advance(self, call: PhoneCall, now: float) -> PhoneCall:
        CALL_LIFECYCLE.advance(call, now, record)
        return call

    def get_call(self, call_id: str) -> PhoneCall:
        call = self.calls.get(call_id)
        if call is not None:
            self._advance(call, self.engine.now())
        if call is None or not call.visible:
            # OAS-RTL getCall declares 422 UnprocessableContent for an id it cannot find
            raise Unprocessable(f"{ASSET_MISSING} Unknown call_id: {call_id}.", param="call_id")
        return call

    def list_calls(
        self,
        filter_criteria: dict[str, Any] | None,
        render: Callable[[PhoneCall], dict[str, Any]],
        sort_order: str = "descending",
        limit: int = 50,
        skip: int = 0,
        pagination_key: str | None = None,
    ) -> tuple[list[PhoneCall], bool, int]:
        """The visible calls matching ``filter_criteria`` (evaluated on the rendered call), a page of them,
        whether more follow, and how many match in all."""
        criteria = filter_criteria or {}
        call_filters.check(criteria)
        now = self.engine.now()
        matching = []
        for call in self.calls.values():
            self._advance(call, now)
            if call.visible and call_filters.matches(render(call), criteria):
                matching.append(call)
        matching.sort(key=lambda c: (c.dial_at, c.seq), reverse=sort_order == "descending")
        page, has_more = cursor_page(matching, limit, pagination_key, skip=skip)
        return page, has_more, len(matching)

    # -- admin ----------------------------------------------------------------------------------------

    def all_batch_calls(self) -> list[BatchCall]:
        now = self.engine.now()
        for call in self.calls.values():
            self._advance(call, now)
        return list(self.batches.values())

    def describe(self, batch: BatchCall) -> dict[str, Any]:
        """The admin API's row. Retell has no batch-call status; ``status`` here is ours: ``scheduled`` (nothing
        dialled yet), ``in_progress``, ``complete`` (every call ended)."""
        states = [call.state for call in batch.calls]
        finished = sum(1 for state in states if state in CALL_RESULTS)
        status = "complete" if finished == len(states) else ("scheduled" if all(s == "queued" for s in states) else "in_progress")
        counts = {f"{outcome}_count": states.count(outcome) for outcome in sorted(CALL_RESULTS)}
        return {"id": batch.id, "kind": "batch_call", "status": status, "created": int(batch.created), "total": len(states), **counts}

    def load_fixture(self, data: dict[str, Any], plan: CallPlan, now: float) -> BatchCall:
        """A ``batch_call`` fixture: a create-batch-call body, optionally with its ``batch_call_id``, a ``call_id``
        per task (the id its call gets) and the ms ``creation_timestamp`` it was created at (its calls then run
        from that moment on the clock)."""
        for key in ("from_number", "tasks"):
            if key not in data:
                raise ValueError(f"retell fixture batch_call: missing {key}")
        created = now if data.get("creation_timestamp") is None else float(data["creation_timestamp"]) / 1000.0
        tasks = [dict(t) for t in data["tasks"]] if isinstance(data["tasks"], list) and all(isinstance(t, dict) for t in data["tasks"]) else None
        if tasks is None:
            raise ValueError("retell fixture batch_call: tasks must be a list of task objects")
        call_ids = [t.pop("call_id", None) for t in tasks]  # a fixture may name its calls' ids
        taken = [i for i in call_ids if i is not None and (not isinstance(i, str) or not i or i in self.calls or call_ids.count(i) > 1)]
        if taken:
            raise ValueError(f"retell fixture batch_call: call_id {taken[0]!r} is not a new, non-empty string")
        if data.get("batch_call_id") in self.batches:
            raise ValueError(f"retell fixture batch_call: batch_call_id {data['batch_call_id']!r} is already loaded")
        try:
            return self.create_batch_call(
                data["from_number"],
                tasks,
                plan,
                name=data.get("name"),
                trigger_timestamp=data.get("trigger_timestamp"),
                reserved_concurrency=data.get("reserved_concurrency"),
                call_time_window=data.get("call_time_window"),
                now=created,
                batch_id=data.get("batch_call_id"),
                call_ids=call_ids,
            )
        except InvalidRequest as exc:
            raise ValueError(f"retell fixture batch_call: {exc.message}") from None


def _bound_agent(from_number: str) -> str:
    """The agent bound to ``from_number`` for outbound calls. The fake has no phone numbers, so the id is
    derived from the number (stable, 32 characters like Retell's agent ids)."""
    return "agent_" + digest("from_number", from_number)[:26]


def _check_numbers(from_number: str, tasks: list[dict[str, Any]]) -> None:
    if not E164.match(from_number):
        raise InvalidRequest(f"from_number {from_number!r} is not a phone number in E.164 format.", param="from_number")
    if not tasks:
        raise InvalidRequest("tasks must contain at least one task.", param="tasks")
    for index, task in enumerate(tasks):
        if not task.get("ignore_e164_validation") and not E164.match(task["to_number"]):
            raise InvalidRequest(
                f"tasks[{index}].to_number {task['to_number']!r} is not a phone number in E.164 format "
                "(set ignore_e164_validation to dial other numbers over custom telephony).",
                param=f"tasks[{index}].to_number",
            )
