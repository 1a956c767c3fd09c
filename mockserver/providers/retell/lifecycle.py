"""Retell test runs and batch tests as transition tables (data only; the engine is mockserver.core.lifecycle).

A run (TestCaseJob) goes pending -> in_progress -> pass | fail | error at moments fixed when its batch is
created. A batch test (TestCaseBatchJob) goes in_progress -> complete when its last run ends. Objects
loaded from fixtures have no moments (None) and so never move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ...core.lifecycle import Lifecycle, Timed

if TYPE_CHECKING:
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
