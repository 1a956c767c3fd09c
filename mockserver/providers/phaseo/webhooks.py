"""Phaseo's batch webhooks (docs.ai-stats.phaseo.app /cookbook/async-batch-webhooks): ``batch.progress`` and the
terminal ``batch.*`` events, sent to the ``webhook {url, secret, events}`` the batch was created with.

Signed as documented: ``x-ai-stats-signature`` = hex HMAC-SHA256 of ``{timestamp}.{raw body}`` with the secret,
plus ``x-ai-stats-timestamp`` (unix seconds), ``-event-id``, ``-event-type``, ``-delivery-key`` (with the
progress bucket), ``-attempt`` and ``-max-attempts``. Choices where the docs are silent: a webhook without
``events`` gets the terminal events (as the docs say for video jobs); progress is announced at each quarter of
the in_progress phase; retries follow ``PHASEO_SCHEDULE``; any non-2xx answer is retried ("non-2xx responses
are retried with the same event id and an incremented attempt number").
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

from ...core.outbox import Delivery, Event, Outbox, Projections, RetryPolicy, Target, event_id
from ..openai_family.models import Batch, OpenAIBatchBackend
from ..openai_family.webhooks import TERMINAL_EVENTS, dumps, progress_points, projected_moments, state_key, whsec

PREFIX = "x-ai-stats-"
DEFAULT_EVENTS = tuple(f"batch.{state}" for state in TERMINAL_EVENTS)
ALL_EVENTS = ("batch.progress", *DEFAULT_EVENTS)
# the docs give no schedule: 5 attempts, 30 s, 2 min, 10 min and 1 h apart (our choice)
PHASEO_SCHEDULE = RetryPolicy(
    delays=(30.0, 120.0, 600.0, 3_600.0),
    timeout=10.0,
    retryable=lambda status: status is None or not 200 <= status < 300,
    source="not documented by Phaseo; our choice",
)


def iso(at: float | None) -> str | None:
    return None if at is None else datetime.datetime.fromtimestamp(at, datetime.UTC).isoformat().replace("+00:00", "Z")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def delivery_key(event: Event) -> str:
    bucket = event.data.get("progress_bucket")
    return f"{event.subject}:{event.type}" + (f":{bucket}" if bucket is not None else "")


def public_state(outbox: Outbox, namespace: str, batch: Batch, webhook: dict[str, Any]) -> dict[str, Any]:
    """The batch's ``webhook`` as Phaseo answers it: sanitized config, the delivery summary, recent attempts."""
    summary = outbox.summary("phaseo", namespace, batch.id)
    for key in ("next_retry_at", "last_attempt_at", "last_delivered_at", "last_failure_at"):
        summary[key] = iso(summary[key])
    attempts: list[dict[str, Any]] = []
    for delivery in outbox.list("phaseo", namespace, batch.id):
        for number, attempt in enumerate(delivery.attempts, 1):
            attempts.append({
                "id": f"{delivery.id}_{number}",
                "attempt_number": number,
                "delivery_key": delivery_key(delivery.event),
                "event_type": delivery.event.type,
                "max_attempts": delivery.max_attempts,
                "status": attempt.outcome,
                "tried_at": iso(attempt.sent_at),
                "delivered_at": iso(attempt.sent_at) if attempt.outcome == "delivered" else None,
                "next_retry_at": iso(delivery.next_at) if attempt is delivery.attempts[-1] and delivery.next_at is not None else None,
                "response_status": attempt.status,
                "response_body_preview": attempt.excerpt or None,
                "error_message": attempt.error,
            })
    attempts.sort(key=lambda a: a["tried_at"] or "")
    return {
        "url": webhook.get("url"),
        "events": list(webhook.get("events") or DEFAULT_EVENTS),
        "has_secret": bool(webhook.get("secret")),
        "delivery": _present(summary),  # Phaseo leaves out what has not happened yet (the spec types them non-null)
        "attempts": [_present(a) for a in attempts[-20:]],
    }


def _present(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


class PhaseoWebhooks:
    account_endpoints = False
    addition = None
    policy = PHASEO_SCHEDULE
    event_types = ALL_EVENTS

    def __init__(self, lifecycle_status: dict[str, str]) -> None:
        self.lifecycle_status = lifecycle_status
        self._projections = Projections()

    def events(self, namespace: str, backend: OpenAIBatchBackend, seed: int) -> Iterable[Event]:
        for batch in list(backend.batches.values()):
            webhook = batch.extra.get("webhook")
            if not isinstance(webhook, dict) or not webhook.get("url") or not batch.extra.get("via_api"):
                continue
            yield from self._projections.events(batch, (seed, namespace, *state_key(batch)), functools.partial(self._events, namespace, batch, seed))

    def _events(self, namespace: str, batch: Batch, seed: int) -> list[Event]:
        webhook = batch.extra["webhook"]
        target = Target(str(webhook["url"]), webhook.get("secret"), tuple(webhook.get("events") or DEFAULT_EVENTS))
        moments = projected_moments(batch)

        def event(kind: str, at: float, state: str, progress: int, bucket: int | None = None, rank: int = 0) -> Event:
            return Event(
                id=event_id("evt_", seed, "batch", namespace, batch.id, kind, bucket),
                type=kind, provider="phaseo", namespace=namespace, subject=batch.id, moment=at, target=target, rank=rank,
                data={"status": state, "progress": progress, "progress_bucket": bucket},
            )

        events = [event("batch.progress", at, "in_progress", percent, percent) for at, percent in progress_points(batch, moments)]
        events += [
            event(f"batch.{state}", moments[state], state, 100 if state == "completed" else -1, rank=1)
            for state in TERMINAL_EVENTS
            if state in moments
        ]
        return events

    def render(self, delivery: Delivery, attempt: int, sent_at: float, outbox: Outbox) -> tuple[bytes, dict[str, str]]:
        event = delivery.event
        batch_state = event.data["status"]
        webhook = {"url": delivery.url, "events": list(event.target.events or ()) if event.target else [], "secret": delivery.secret}
        summary = outbox.summary("phaseo", event.namespace, event.subject)
        data: dict[str, Any] = {
            "id": event.subject,
            "object": "batch",
            "kind": "batch",
            "status": batch_state,
            "lifecycle_status": self.lifecycle_status.get(batch_state, batch_state),
            "webhook": {"url": delivery.url, "events": webhook["events"], "has_secret": bool(delivery.secret),
                        "delivery": _present({k: (iso(v) if k.endswith("_at") else v) for k, v in summary.items()})},
        }
        if event.data["progress"] >= 0:
            data["progress"] = event.data["progress"]
        body = dumps({"id": event.id, "object": "event", "type": event.type, "created_at": int(event.moment), "data": data})
        timestamp = str(int(sent_at))
        headers = {
            "content-type": "application/json",
            PREFIX + "timestamp": timestamp,
            PREFIX + "event-id": event.id,
            PREFIX + "event-type": event.type,
            PREFIX + "delivery-key": delivery_key(event),
            PREFIX + "attempt": str(attempt),
            PREFIX + "max-attempts": str(delivery.max_attempts),
        }
        if delivery.secret:
            headers[PREFIX + "signature"] = sign(delivery.secret, timestamp, body)
        return body, headers

    def new_secret(self, token: bytes) -> str:
        return whsec(token)


__all__ = ["ALL_EVENTS", "DEFAULT_EVENTS", "PhaseoWebhooks", "public_state", "sign"]
