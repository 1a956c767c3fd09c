"""FormantAI calls and batch calls as transition tables (data only; the engine is mockserver.core.lifecycle).

A call goes queued -> in_progress -> (pending_retry -> in_progress)* -> one final state, every attempt at
moments fixed when its batch is created. A batch goes pending -> processing when its first call is dialled
and -> completed when its last call ends (``failed`` exists for fixtures only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ...core.lifecycle import Lifecycle, Timed

if TYPE_CHECKING:
    from .models import BatchCall, PhoneCall

# a call's final state: each has a metrics counter; `completed` covers success and not-success
FINAL_STATES = ("completed", "failed", "busy", "no_answer", "unreachable", "socket_failure")
# attempt outcomes worth another dial (the line was busy, nobody answered, the voice stream broke);
# completed, failed (telephony error) and unreachable (invalid / out-of-service number) are final
RETRYABLE = frozenset({"busy", "no_answer", "socket_failure"})


def _ends_as(state: str) -> Callable[[PhoneCall], float | None]:
    def at(call: PhoneCall) -> float | None:
        return call.current.end if call.is_last and call.final_state == state else None

    return at


CALL_LIFECYCLE: Lifecycle[PhoneCall] = Lifecycle(
    name="formant::call",
    initial="queued",
    timed=[
        Timed("queued", "in_progress", lambda call: call.attempts[0].start),
        Timed("in_progress", "pending_retry", lambda call: None if call.is_last else call.current.end),
        Timed("pending_retry", "in_progress", lambda call: call.attempts[call.attempt + 1].start),
        *(Timed("in_progress", state, _ends_as(state)) for state in FINAL_STATES),
    ],
    terminal=frozenset(FINAL_STATES),
)

BATCH_CALL_LIFECYCLE: Lifecycle[BatchCall] = Lifecycle(
    name="formant::batch_call",
    initial="pending",
    timed=[
        Timed("pending", "processing", lambda batch: batch.starts_at),
        Timed("processing", "completed", lambda batch: batch.ends_at),
    ],
    terminal=frozenset({"completed", "failed"}),
)
