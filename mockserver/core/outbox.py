"""Webhook events and their deliveries, as plain data: what is owed to whom, every attempt, when the next is due.

No HTTP and no clock here. Events are derived from the moments the lifecycles record (each provider's
``Announcer`` says which states announce what); the server's one dispatcher offers the events whose moment
has passed, asks ``due(now)`` what to send, sends it and ``settle``s the attempt. Everything is dataclasses
and dicts: with a durable state (``--state``) the outbox is one of the store's engine-wide parts (``state()`` /
``load_state()``, saved when ``mark()`` moved), so endpoints, secrets and every attempt survive a restart and
every worker sees them.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol


def default_retryable(status: int | None) -> bool:
    """Connection errors and timeouts (no status), 429 and 5xx are worth another attempt."""
    return status is None or status == 429 or status >= 500


@dataclass(frozen=True)
class RetryPolicy:
    """``delays[i]``: simulated seconds from attempt i+1 being due to attempt i+2 being due."""

    delays: tuple[float, ...]
    timeout: float = 10.0
    retryable: Callable[[int | None], bool] = default_retryable
    source: str = ""  # where the schedule comes from (a doc page, or "our choice")

    @property
    def max_attempts(self) -> int:
        return 1 + len(self.delays)


@dataclass(frozen=True)
class Target:
    """Where an object's own events go (e.g. a batch created with a ``webhook``)."""

    url: str
    secret: str | None = None
    events: tuple[str, ...] | None = None  # None: every event the provider announces by default


@dataclass(frozen=True)
class Event:
    """Something that happened at ``moment`` on the simulated clock; ``id`` is derived, never drawn."""

    id: str
    type: str
    provider: str
    namespace: str
    subject: str  # the object's id (a batch, a call)
    moment: float
    data: dict[str, Any] = field(default_factory=dict, compare=False)
    target: Target | None = None  # None: the account endpoints of (provider, namespace)
    rank: int = 0  # orders events of the same moment (e.g. a call's events before its batch's)


def event_id(prefix: str, *parts: object) -> str:
    """A stable id for an event: the same seed, object and state give the same id on every run and read."""
    return prefix + hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:24]


@dataclass
class Endpoint:
    """An account-level endpoint (per provider and API key), registered by the admin API, config or marker."""

    id: str
    provider: str
    namespace: str
    url: str
    secret: str
    events: tuple[str, ...] | None
    since: float  # receives the events that happen from this simulated moment on


@dataclass
class Attempt:
    number: int
    due_at: float  # simulated moment the attempt was due
    sent_at: float  # simulated moment it was sent
    real_at: float  # wall-clock time it was sent
    status: int | None = None
    latency_ms: float = 0.0
    error: str | None = None
    excerpt: str = ""
    outcome: str = ""  # delivered | scheduled_retry | failed_permanently
    duplicate: bool = False  # sent again on purpose by a fault
    manual: bool = False  # a redelivery asked for through the admin API
    refused: bool = False  # not sent at all (the host is not allowed): final, never retried


@dataclass
class Delivery:
    id: str
    event: Event
    url: str
    secret: str | None
    endpoint_id: str | None
    max_attempts: int
    seq: int
    attempts: list[Attempt] = field(default_factory=list)
    next_at: float | None = None  # simulated moment the next attempt is due; None: nothing more to send
    state: str = "pending"  # pending | delivered | failed
    manual: bool = False  # the next attempt is a redelivery asked for through the admin API

    def key(self) -> str:
        """The idempotency key of this delivery (the same on every retry)."""
        return event_id("dk_", self.event.id, self.url)


class Announcer(Protocol):
    """What a provider declares about its webhooks (a hook on providers/base.py's Provider)."""

    policy: RetryPolicy
    account_endpoints: bool  # events go to endpoints registered per account (else only to per-object targets)
    addition: str | None  # why this exists when the provider documents no webhooks (an opt-in addition)

    def events(self, namespace: str, backend: Any, seed: int) -> Iterable[Event]:
        """Every event the backend's objects announce, past and future, from their recorded and projected
        moments; must not change the backend or draw ids."""

    def render(self, delivery: Delivery, attempt: int, sent_at: float, outbox: Outbox) -> tuple[bytes, dict[str, str]]:
        """The body and headers (signed) of one attempt; ``sent_at`` is wall-clock time."""

    def new_secret(self, token: bytes) -> str:
        """A signing secret in the provider's format, made from ``token``."""


class Projections:
    """An announcer's events per object, recomputed only when what they depend on (``key``) changed: the
    dispatcher asks at every tick, and replaying every object's lifecycle each time would grow with the state."""

    LIMIT = 50_000

    def __init__(self) -> None:
        self._cache: dict[int, tuple[weakref.ref[Any], tuple[Any, ...], list[Event]]] = {}

    def events(self, obj: Any, key: tuple[Any, ...], build: Callable[[], list[Event]]) -> list[Event]:
        hit = self._cache.get(id(obj))
        if hit is not None and hit[0]() is obj and hit[1] == key:
            return hit[2]
        if len(self._cache) > self.LIMIT:
            self._cache.clear()
        events = build()
        self._cache[id(obj)] = (weakref.ref(obj), key, events)
        return events


@dataclass
class Faults:
    """Misbehaviour on purpose (real providers do it): send the next ``duplicates`` deliveries twice, and
    send deliveries due together newest first."""

    duplicates: int = 0
    reorder: bool = False


# where deliveries may go unless the admin API allows more: a mock should not post to the internet because a
# fixture or a copied example names a real URL
LOOPBACK = ("localhost", "127.0.0.1", "::1")


class Outbox:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.endpoints: dict[str, Endpoint] = {}
        self.deliveries: dict[str, Delivery] = {}
        self.paused = False
        self.faults = Faults()
        self.allowed_hosts: tuple[str, ...] = LOOPBACK  # plus any 127.x address; "*" allows every host
        self.sender: Any = None  # the one dispatcher sending these deliveries (two apps on one engine: one sends)
        self._seq = 0
        self._changes = 0  # bumped by every change made through a method (the durable store's mark)

    # -- as stored (core/state/parts.py) -----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "endpoints": dict(self.endpoints), "deliveries": dict(self.deliveries), "paused": self.paused,
                "faults": (self.faults.duplicates, self.faults.reorder), "allowed_hosts": self.allowed_hosts, "seq": self._seq,
            }

    def load_state(self, state: dict[str, Any]) -> None:
        """Take the outbox another process (or this one before a restart) saved."""
        with self._lock:
            self.endpoints = dict(state["endpoints"])
            self.deliveries = dict(state["deliveries"])
            self.paused = bool(state["paused"])
            self.faults = Faults(*state["faults"])
            self.allowed_hosts = tuple(state["allowed_hosts"])
            self._seq = int(state["seq"])

    def mark(self) -> int:
        """Moves with every change (the methods' and the admin API's plain assignments to the flags)."""
        with self._lock:
            return hash((self._changes, self.paused, self.allowed_hosts, self.faults.duplicates, self.faults.reorder, len(self.endpoints)))

    def allows(self, host: str) -> bool:
        host = host.strip("[]").lower()
        return "*" in self.allowed_hosts or host in self.allowed_hosts or host.startswith("127.")

    # -- endpoints ---------------------------------------------------------------------------------------
    def add_endpoint(self, endpoint: Endpoint) -> Endpoint:
        with self._lock:
            self._changes += 1
            self.endpoints[endpoint.id] = endpoint
            return endpoint

    def remove_endpoint(self, endpoint_id: str) -> bool:
        with self._lock:
            self._changes += 1
            return self.endpoints.pop(endpoint_id, None) is not None

    def endpoints_for(self, provider: str, namespace: str | None = None) -> list[Endpoint]:
        with self._lock:
            return [e for e in self.endpoints.values() if e.provider == provider and namespace in (None, e.namespace)]

    # -- events -> deliveries ----------------------------------------------------------------------------
    def _routes(self, event: Event) -> list[tuple[str, str | None, str | None]]:
        if event.target is not None:
            wanted = event.target.events
            return [] if wanted is not None and event.type not in wanted else [(event.target.url, event.target.secret, None)]
        return [
            (e.url, e.secret, e.id)
            for e in self.endpoints.values()
            if e.provider == event.provider and e.namespace == event.namespace and event.moment >= e.since
            and (e.events is None or event.type in e.events)
        ]

    def owes(self, event: Event) -> bool:
        """Whether ``offer(event)`` would queue something new (a look that changes nothing)."""
        with self._lock:
            return any(event_id("whd_", event.id, url) not in self.deliveries for url, _, _ in self._routes(event))

    def offer(self, event: Event, max_attempts: int) -> list[Delivery]:
        """Queue ``event`` for its target or its account's endpoints, once per (event, url)."""
        made = []
        with self._lock:
            for url, secret, endpoint_id in self._routes(event):
                delivery_id = event_id("whd_", event.id, url)
                if delivery_id in self.deliveries:
                    continue
                self._seq += 1
                self._changes += 1
                delivery = Delivery(delivery_id, event, url, secret, endpoint_id, max_attempts, self._seq, next_at=event.moment)
                self.deliveries[delivery_id] = delivery
                made.append(delivery)
        return made

    def due(self, now: float) -> list[Delivery]:
        """What should be sent now, in order: due moment, then the event's moment and rank, then queue order."""
        with self._lock:
            if self.paused:
                return []
            due = [d for d in self.deliveries.values() if d.next_at is not None and d.next_at <= now]
        due.sort(key=lambda d: (d.next_at, d.event.moment, d.event.rank, d.seq))
        if self.faults.reorder:
            due.reverse()
        return due

    def next_at(self) -> float | None:
        with self._lock:
            if self.paused:
                return None
            moments = [d.next_at for d in self.deliveries.values() if d.next_at is not None]
        return min(moments) if moments else None

    def take_duplicate(self) -> bool:
        """Whether the delivery just made should be sent once more (a duplicates fault)."""
        with self._lock:
            if self.faults.duplicates > 0:
                self.faults.duplicates -= 1
                return True
            return False

    def settle(self, delivery: Delivery, attempt: Attempt, policy: RetryPolicy) -> None:
        """Record an attempt and decide what follows it: done, another attempt on the schedule, or give up."""
        with self._lock:
            self._changes += 1
            delivery.attempts.append(attempt)
            if attempt.manual:
                delivery.manual = False
            if attempt.duplicate:
                attempt.outcome = "delivered" if attempt.status is not None and 200 <= attempt.status < 300 else "failed_permanently"
                return
            if attempt.status is not None and 200 <= attempt.status < 300:
                delivery.state, delivery.next_at, attempt.outcome = "delivered", None, "delivered"
                return
            tried = sum(1 for a in delivery.attempts if not a.duplicate and not a.manual)
            if not attempt.manual and not attempt.refused and policy.retryable(attempt.status) and tried < delivery.max_attempts:
                delivery.next_at = attempt.due_at + policy.delays[tried - 1]
                delivery.state, attempt.outcome = "pending", "scheduled_retry"
            else:
                delivery.state, delivery.next_at, attempt.outcome = "failed", None, "failed_permanently"

    def redeliver(self, delivery_id: str, now: float) -> Delivery | None:
        """Send a delivery once more, now (the same event id; one attempt, not a new retry schedule)."""
        with self._lock:
            delivery = self.deliveries.get(delivery_id)
            if delivery is not None:
                self._changes += 1
                delivery.next_at, delivery.state, delivery.manual = now, "pending", True
            return delivery

    # -- reading -----------------------------------------------------------------------------------------
    def list(self, provider: str | None = None, namespace: str | None = None, subject: str | None = None) -> list[Delivery]:
        with self._lock:
            rows = list(self.deliveries.values())
        return [
            d for d in sorted(rows, key=lambda d: d.seq)
            if provider in (None, d.event.provider) and namespace in (None, d.event.namespace) and subject in (None, d.event.subject)
        ]

    def summary(self, provider: str, namespace: str, subject: str) -> dict[str, Any]:
        """What the deliveries of one object's events add up to (counts and the moments of the last ones)."""
        deliveries = self.list(provider, namespace, subject)
        attempts = [(a, d) for d in deliveries for a in d.attempts]
        attempts.sort(key=lambda item: (item[0].sent_at, item[0].real_at))
        delivered = [d for d in deliveries if d.state == "delivered"]
        ok = [a for a, _ in attempts if a.outcome == "delivered"]
        bad = [a for a, _ in attempts if a.outcome != "delivered"]
        pending = [d for d in deliveries if d.next_at is not None and d.attempts]
        last = attempts[-1][0] if attempts else None
        return {
            "total_attempts": len(attempts),
            "delivered_events": len(delivered),
            "delivered_event_types": sorted({d.event.type for d in delivered}),
            "pending_retries": len(pending),
            "next_retry_at": min((d.next_at for d in pending if d.next_at is not None), default=None),
            "last_attempt_at": last.sent_at if last else None,
            "last_attempt_status": last.outcome if last else None,
            "last_response_status": last.status if last else None,
            "last_delivered_at": ok[-1].sent_at if ok else None,
            "last_failure_at": bad[-1].sent_at if bad else None,
            "last_error_message": bad[-1].error if bad else None,
        }

    def clear(self) -> None:
        """Forget every endpoint, delivery, fault and the pause (an engine reset)."""
        with self._lock:
            self._changes += 1
            self.endpoints.clear()
            self.deliveries.clear()
            self.paused = False
            self.faults = Faults()
            self.allowed_hosts = LOOPBACK
            self._seq = 0
