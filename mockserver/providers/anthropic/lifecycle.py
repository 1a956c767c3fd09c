"""An Anthropic Message Batch as a transition table (data only; the engine is mockserver.core.lifecycle).

in_progress -> ended when its last request is processed or when it expires (24 h after creation), whichever is
first; a cancel request moves it to canceling, and it ends ``cancelling`` seconds later. ``ended`` is terminal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.lifecycle import Event, Lifecycle, Timed

if TYPE_CHECKING:
    from .models import MessageBatch

STATES = ("in_progress", "canceling", "ended")
# what a request ends as: processed (succeeded or errored), or not processed before the batch stopped
RESULT_TYPES = ("succeeded", "errored", "canceled", "expired")

BATCH_LIFECYCLE: Lifecycle[MessageBatch] = Lifecycle(
    name="anthropic::message_batch",
    initial="in_progress",
    timed=[
        Timed("in_progress", "ended", lambda batch: min(batch.finishes_at, batch.expires_at)),
        Timed("canceling", "ended", lambda batch: batch.cancel_ends_at),
    ],
    events=[Event("cancel", frozenset({"in_progress"}), "canceling")],
    terminal=frozenset({"ended"}),
)
