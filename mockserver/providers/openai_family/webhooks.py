"""Webhook events of the OpenAI-compatible backend: the moments a batch enters each state, projected from its
recorded moments without changing it, and OpenAI's Standard-Webhooks events (PROVIDERS.md section 1.8).

AnyAPI and Portkey document no webhooks: their ``StandardWebhooks`` announcer is an **opt-in addition** (events
go only to endpoints registered for the account through the admin API, the config file or the marker), so code
written for OpenAI's ``client.webhooks.unwrap`` can be tested against them.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import hmac
import json
import math
from collections.abc import Iterable
from typing import Any

from ...core.lifecycle import record
from ...core.outbox import Delivery, Event, Outbox, Projections, RetryPolicy, event_id
from .lifecycle import BATCH_LIFECYCLE
from .models import Batch, OpenAIBatchBackend

TERMINAL_EVENTS = ("completed", "failed", "cancelled", "expired")

# Standard Webhooks' recommended schedule (standardwebhooks.com spec, "Retry schedule"): OpenAI says only that
# failed deliveries are retried with exponential backoff for up to 72 hours. Our choice: this schedule.
STANDARD_SCHEDULE = RetryPolicy(
    delays=(5.0, 300.0, 1_800.0, 7_200.0, 18_000.0, 36_000.0, 36_000.0),
    timeout=15.0,
    source="Standard Webhooks recommended schedule (OpenAI: exponential backoff up to 72 h); our choice",
)


def projected_moments(batch: Batch) -> dict[str, float]:
    """When the batch entered (recorded) or will enter (projected, if nobody cancels it) each state.

    The lifecycle is replayed on a shallow copy with fresh moments, so the batch itself, its files and the id
    streams are untouched: deriving events is a pure read."""
    shadow = copy.copy(batch)
    shadow.moments = dict(batch.moments)
    BATCH_LIFECYCLE.advance(shadow, math.inf, record)
    return {state: at for state, at in shadow.moments.items() if math.isfinite(at)}


def state_key(batch: Batch) -> tuple[Any, ...]:
    """What a batch's events depend on that can change after it is created."""
    return (batch.state, tuple(batch.moments.items()), batch.expires_at, id(batch.extra.get("webhook")))


def progress_points(batch: Batch, moments: dict[str, float], buckets: int = 4) -> list[tuple[float, int]]:
    """(moment, percent) at each quarter of the in_progress phase while the batch is still running, keeping only
    points where the percentage of processed lines went up."""
    start = moments.get("in_progress")
    length = batch.plan.in_progress
    if start is None or not batch.lines or length <= 0 or math.isinf(length):
        return []
    left = min((at for state, at in moments.items() if state not in ("validating", "in_progress") and at >= start), default=math.inf)
    points: list[tuple[float, int]] = []
    last = 0
    for k in range(1, buckets):
        at = start + length * k / buckets
        if at >= left:
            break
        done = math.floor(len(batch.lines) * min(1.0, (at - start) / length))
        percent = round(100 * done / len(batch.lines))
        if percent > last:
            points.append((at, percent))
            last = percent
    return points


def whsec(token: bytes) -> str:
    return "whsec_" + base64.b64encode(hashlib.sha256(token).digest()[:24]).decode()


def standard_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks: ``v1,`` + base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}`` keyed by the secret's
    base64 part (what openai's ``webhooks.verify_signature`` checks)."""
    key = base64.b64decode(secret[len("whsec_"):]) if secret.startswith("whsec_") else secret.encode()
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


class StandardWebhooks:
    """OpenAI's batch events (``batch.completed|failed|cancelled|expired``) to account endpoints, signed with
    Standard-Webhooks headers."""

    account_endpoints = True
    policy = STANDARD_SCHEDULE
    event_types = tuple(f"batch.{state}" for state in TERMINAL_EVENTS)

    def __init__(self, provider: str, addition: str | None = None) -> None:
        self.provider = provider
        self.addition = addition
        self._projections = Projections()

    def events(self, namespace: str, backend: OpenAIBatchBackend, seed: int) -> Iterable[Event]:
        for batch in list(backend.batches.values()):
            if not batch.extra.get("via_api"):
                continue  # preloaded by a fixture: it is shown as it stands, nothing is announced
            yield from self._projections.events(batch, (seed, namespace, *state_key(batch)), functools.partial(self._events, namespace, batch, seed))

    def _events(self, namespace: str, batch: Batch, seed: int) -> list[Event]:
        moments = projected_moments(batch)
        return [
            Event(
                id=event_id("evt_", seed, self.provider, namespace, batch.id, state),
                type=f"batch.{state}", provider=self.provider, namespace=namespace, subject=batch.id,
                moment=moments[state], data={"id": batch.id},
            )
            for state in TERMINAL_EVENTS
            if state in moments
        ]

    def render(self, delivery: Delivery, attempt: int, sent_at: float, outbox: Outbox) -> tuple[bytes, dict[str, str]]:
        event = delivery.event
        body = dumps({"id": event.id, "object": "event", "created_at": int(event.moment), "type": event.type, "data": event.data})
        timestamp = str(int(sent_at))
        headers = {"content-type": "application/json", "webhook-id": event.id, "webhook-timestamp": timestamp}
        if delivery.secret:
            headers["webhook-signature"] = standard_signature(delivery.secret, event.id, timestamp, body)
        return body, headers

    def new_secret(self, token: bytes) -> str:
        return whsec(token)


__all__ = ["StandardWebhooks", "state_key", "dumps", "progress_points", "projected_moments", "standard_signature", "whsec"]
