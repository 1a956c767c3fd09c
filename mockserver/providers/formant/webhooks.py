"""FormantAI's call webhooks (docs.formantai.com /webhooks/events, /payloads, /signature-verification,
/delivery-retries): one ``call.<outcome>`` event each time a dial attempt of a batch's call ends, with its
``retry`` details, to the endpoints registered for the account (the admin API, the config file or the marker).

Every attempt's outcome and moments are fixed when the batch is created (``PhoneCall.attempts``: the moments
``CALL_LIFECYCLE`` enters), so the events are read from them. Signed as documented: ``X-FormantAI-Signature:
sha256=<hex HMAC-SHA256 of the raw body with the secret>``, with ``X-FormantAI-Event-Id``, ``-Event-Type`` and
``-Timestamp`` (unix seconds, when the request was sent). Retries: immediate, 30 s later, 300 s later (we read
"later" as after the previous attempt), on network errors, timeouts, 429 and 5xx; 10 s timeout.
Choices: a call that did not connect has ``duration_seconds`` 0 and no recording; ``from_phone`` is null (the
mock has no phone numbers); a final ``failed`` is ``call.failed`` (``call.telephony_failed`` is never sent).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
from collections.abc import Iterable

from ...core.outbox import Delivery, Event, Outbox, Projections, RetryPolicy, event_id
from ..openai_family.webhooks import dumps
from .lifecycle import RETRYABLE
from .models import STATE_OF, BatchCall, FormantBackend, PhoneCall
from .scenarios import DEFAULT_MAX_ATTEMPTS, plan_for

FORMANT_SCHEDULE = RetryPolicy(delays=(30.0, 300.0), timeout=10.0, source="docs.formantai.com/webhooks/delivery-retries")
EVENT_TYPES = tuple(f"call.{s}" for s in ("completed", "failed", "busy", "no_answer", "socket_failure", "telephony_failed", "unreachable"))
FAILURE_REASONS = {
    "busy": "The line was busy.",
    "no_answer": "Nobody answered.",
    "socket_failure": "Telephony connected but the voice stream did not start.",
    "failed": "The telephony provider reported an error.",
    "unreachable": "The number is invalid or out of service.",
}


def iso(at: float | None) -> str | None:
    return None if at is None else datetime.datetime.fromtimestamp(at, datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _max_attempts(batch: BatchCall, call: PhoneCall, backend: FormantBackend) -> int:
    if call.attempts[-1].outcome in RETRYABLE:
        return len(call.attempts)  # retried until the plan ran out
    try:
        return max(len(call.attempts), plan_for(batch.scenario, backend.engine.scenarios).max_attempts)
    except Exception:  # a user scenario removed since: the attempts are what we know
        return max(len(call.attempts), DEFAULT_MAX_ATTEMPTS)


class FormantWebhooks:
    account_endpoints = True
    addition = None
    policy = FORMANT_SCHEDULE
    event_types = EVENT_TYPES

    def __init__(self) -> None:
        self._projections = Projections()

    def events(self, namespace: str, backend: FormantBackend, seed: int) -> Iterable[Event]:
        for batch in list(backend.batches.values()):
            if batch.frozen:
                continue  # a fixture batch never moves, so nothing happens to announce
            # a call's attempts are fixed when the batch is created: its events are computed once
            yield from self._projections.events(batch, (seed, namespace), functools.partial(self._events, namespace, batch, backend, seed))

    def _events(self, namespace: str, batch: BatchCall, backend: FormantBackend, seed: int) -> list[Event]:
        events: list[Event] = []
        for call in batch.calls:
            most = _max_attempts(batch, call, backend)
            trace = event_id("", seed, namespace, batch.id, call.index)[:16]
            for number, attempt in enumerate(call.attempts):
                last = number == len(call.attempts) - 1
                outcome = STATE_OF.get(attempt.outcome, attempt.outcome)
                connected = attempt.outcome in STATE_OF
                data = {
                    "call": {
                        "agent_id": batch.agent_id,
                        "call_parameters": dict(call.parameters),
                        "conversation_id": f"conv_{trace}_{number + 1}",
                        "duration_seconds": round(attempt.end - attempt.start, 2) if connected else 0,
                        "ended_at": iso(attempt.end),
                        "failure_reason": FAILURE_REASONS.get(attempt.outcome),
                        "from_phone": None,
                        "recording_url": None,
                        "started_at": iso(attempt.start),
                        "status": outcome,
                        "to_phone": call.phone,
                        "trace_id": trace,
                    },
                    "results": {"success": attempt.outcome == "success"} if connected else {},
                    "retry": {
                        "attempt_number": number + 1,
                        "is_final_attempt": last,
                        "max_attempts": most,
                        "next_retry_at": None if last else iso(call.attempts[number + 1].start),
                    },
                    "retry_context": {"batch_call_id": batch.id, "row": call.index + 1, "previous_outcome": call.attempts[number - 1].outcome if number else None},
                    "transcript": [] if not connected else [{"role": "agent", "content": "Hello! This is a simulated call."}],
                }
                events.append(Event(
                    id=event_id("evt_", seed, "call", namespace, batch.id, call.index, number),
                    type=f"call.{outcome}", provider="formant", namespace=namespace, subject=str(batch.id),
                    moment=attempt.end, data=data,
                ))
        return events

    def render(self, delivery: Delivery, attempt: int, sent_at: float, outbox: Outbox) -> tuple[bytes, dict[str, str]]:
        event = delivery.event
        body = dumps({"event_id": event.id, "event_type": event.type, "timestamp": iso(event.moment), "data": event.data})
        headers = {
            "Content-Type": "application/json",
            "X-FormantAI-Event-Id": event.id,
            "X-FormantAI-Event-Type": event.type,
            "X-FormantAI-Timestamp": str(int(sent_at)),
        }
        if delivery.secret:
            headers["X-FormantAI-Signature"] = signature(delivery.secret, body)
        return body, headers

    def new_secret(self, token: bytes) -> str:
        return "fwhsec_" + hashlib.sha256(token).hexdigest()[:32]


__all__ = ["EVENT_TYPES", "FormantWebhooks", "signature"]
