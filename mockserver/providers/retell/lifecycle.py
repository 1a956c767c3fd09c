"""Retell test runs and batch tests as transition tables (data only; the engine is mockserver.core.lifecycle).

A run (TestCaseJob) goes pending -> in_progress -> pass | fail | error at moments fixed when its batch is
created. A batch test (TestCaseBatchJob) goes in_progress -> complete when its last run ends. Objects
loaded from fixtures have no moments (None) and so never move.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ...core.lifecycle import Lifecycle, Timed

if TYPE_CHECKING:
    from .batch_calls import PhoneCall
    from .models import BatchTest, Run

RUN_RESULTS = frozenset({"pass", "fail", "error"})


def _ends_as(outcome: str) -> Callable[[Run], float | None]:
    def at(run: Run) -> float | None:
        return run.ends_at if run.outcome == outcome else None

    return at


RUN_LIFECYCLE: Lifecycle[Run] = Lifecycle(
    name="retell::test_run",
    initial="pending",
    timed=[
        Timed("pending", "in_progress", lambda run: run.starts_at),
        *(Timed("in_progress", outcome, _ends_as(outcome)) for outcome in sorted(RUN_RESULTS)),
    ],
    terminal=RUN_RESULTS,
)

BATCH_TEST_LIFECYCLE: Lifecycle[BatchTest] = Lifecycle(
    name="retell::batch_test",
    initial="in_progress",
    timed=[Timed("in_progress", "complete", lambda batch: batch.completes_at)],
    terminal=frozenset({"complete"}),
)


# -- batch calls -----------------------------------------------------------------------------------
# A call of a batch call (batch_calls.PhoneCall) is queued until its wave is dialled (not yet a call in
# Retell's call history: the fake does not list it), then registered (call id issued, dialling). An
# answered call goes ongoing, then ended; an unanswered one goes not_connected; a failed one error.
# Retell's call_status enum: registered, not_connected, ongoing, ended, error (SDK types/call_response.py).
CALL_RESULTS = frozenset({"ended", "not_connected", "error"})


def _call_ends_as(outcome: str) -> Callable[[PhoneCall], float | None]:
    def at(call: PhoneCall) -> float | None:
        return call.end_at if call.outcome == outcome else None

    return at


CALL_LIFECYCLE: Lifecycle[PhoneCall] = Lifecycle(
    name="retell::batch_call_call",
    initial="queued",
    timed=[
        Timed("queued", "registered", lambda call: call.dial_at),
        Timed("registered", "ongoing", lambda call: call.connect_at),
        Timed("registered", "not_connected", _call_ends_as("not_connected")),
        Timed("registered", "error", _call_ends_as("error")),
        Timed("ongoing", "ended", lambda call: call.end_at),
    ],
    terminal=CALL_RESULTS,
)
