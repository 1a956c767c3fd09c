"""The OpenAI batch lifecycle as a transition table (data only; the engine is mockserver.core.lifecycle)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.lifecycle import Event, Lifecycle, Timed

if TYPE_CHECKING:
    from .models import Batch

ACTIVE = frozenset({"validating", "in_progress", "finalizing"})
TERMINAL = frozenset({"failed", "completed", "expired", "cancelled"})


def _after(state: str, phase: str):  # type: ignore[no-untyped-def]
    def at(batch: Batch) -> float | None:
        entered = batch.moments.get(state)
        return None if entered is None else entered + getattr(batch.plan, phase)

    return at


BATCH_LIFECYCLE: Lifecycle[Batch] = Lifecycle(
    name="openai::batch",
    initial="validating",
    timed=[
        Timed("validating", "failed", lambda b: b.moments["validating"] + b.plan.validating if b.validation_errors else None),
        Timed("validating", "in_progress", lambda b: None if b.validation_errors else b.moments["validating"] + b.plan.validating),
        Timed("validating", "expired", lambda b: b.expires_at),
        Timed("in_progress", "finalizing", _after("in_progress", "in_progress")),
        Timed("in_progress", "expired", lambda b: b.expires_at),
        Timed("finalizing", "completed", _after("finalizing", "finalizing")),
        Timed("cancelling", "completed", lambda b: b.moments["cancelling"] + b.plan.cancelling if b.plan.cancel_race else None),
        Timed("cancelling", "cancelled", lambda b: None if b.plan.cancel_race else b.moments["cancelling"] + b.plan.cancelling),
    ],
    events=[
        # OpenAI, Portkey, Phaseo: cancelling for up to 10 minutes, then cancelled
        Event("cancel", ACTIVE, "cancelling"),
        # AnyAPI documents a cancel that answers status "cancelled" at once
        Event("cancel_now", ACTIVE, "cancelled"),
    ],
    terminal=TERMINAL,
)
