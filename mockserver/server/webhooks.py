"""The one webhook dispatcher of a server: a single asyncio task that sleeps until the next due moment on the
simulated clock, then derives the events whose moment has passed, and sends what is due, in order.

No task, thread or timer exists per batch: the task keeps one timer (the earliest projected event or retry),
and is woken early by every clock change (``SimulatedClock.watch``) and after every HTTP write (a create or
a cancel may move the next moment). It starts with the first request the served app answers, in that loop,
and ends with the app: at the lifespan's shutdown, or when its loop cancels it (``asyncio.run``'s end). Its
waits use ``asyncio.timeout``, not ``asyncio.wait_for``: on Python 3.11 ``wait_for`` drops a cancellation that
lands while the awaited event is being set (a poke from the last request), and the task then lived on, so
``asyncio.run`` (uvicorn's shutdown) waited for it forever and it kept ticking after its server was gone.

With a durable state (``--state``) the outbox is stored (core/state/parts.py) and every step runs in the
store's transactions: a read transaction looks for what is owed and due, a short write transaction queues it,
the HTTP request is sent outside any transaction, and a write transaction records the attempt. Several
processes on one state (``--workers N``, or several servers) each run a dispatcher, but only the holder of
the ``webhooks`` lease (a row in the state, taken for ``LEASE_TTL`` real seconds and renewed while it runs)
sends; the others look again every ``DURABLE_SLEEP`` seconds and take over once a holder's lease ran out
(a holder that stops gives its lease back; one killed holds it at most ``LEASE_TTL`` seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import ssl
import time
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.engine import Engine
from ..core.outbox import Attempt, Delivery, Event, RetryPolicy
from ..providers.base import Provider

log = logging.getLogger("mockserver.webhooks")
MAX_SLEEP = 30.0  # real seconds: the dispatcher looks again at least this often (a safety net, not the timer)
EXCERPT = 200  # characters of a receiver's answer kept per attempt
DURABLE_SLEEP = 1.0  # real seconds between looks with a durable state (another process may change the clock)
LEASE = "webhooks"
LEASE_TTL = 15.0  # real seconds a taken lease holds; renewed once less than LEASE_TTL - LEASE_RENEW is left
LEASE_RENEW = 5.0


class Dispatcher:
    def __init__(self, engine: Engine, providers: dict[str, Provider]) -> None:
        self.engine = engine
        self.providers = {name: p for name, p in providers.items() if p.webhooks is not None}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0  # how many times the dispatcher woke up (for tests and the admin API)
        self._listeners: set[asyncio.Event] = set()  # open streams waiting for the next change
        self.holder = secrets.token_hex(8)  # this dispatcher in the lease row (durable state)
        self._lease_until = 0.0  # wall-clock time this dispatcher's lease runs out
        engine.clock.watch(self.poke)

    # -- life ----------------------------------------------------------------------------------------------
    def ensure_started(self) -> None:
        """Start the task in the running loop unless it already runs there."""
        loop = asyncio.get_running_loop()
        if self._task is not None and not self._task.done() and self._loop is loop:
            return
        self._cancel_elsewhere()
        sender = self.engine.outbox.sender
        if sender is not None and sender is not self and sender.running:
            return  # another app on the same engine already sends: every delivery goes out once
        self.engine.outbox.sender = self
        self._loop, self._wake = loop, asyncio.Event()
        self._task = loop.create_task(self._run(), name="mockserver:webhooks")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """End the task (the app's lifespan shutdown); called in any loop, it returns once the task ended."""
        task, loop = self._task, self._loop
        if task is None or task.done():
            return
        if loop is not asyncio.get_running_loop():
            self._cancel_elsewhere()
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if self._lease_until > time.time():
            await self._give_back_lease()

    async def _give_back_lease(self) -> None:
        """Let another process send at once (a stopped holder's lease would otherwise run ``LEASE_TTL``)."""

        async def release() -> None:
            self.engine.store.lease(LEASE, self.holder, time.time(), 0.0)

        self._lease_until = 0.0
        try:
            await self.engine.store.atomically(release, write=True)
        except Exception:  # the state is gone (the database stopped first): the lease runs out by itself
            log.warning("webhook dispatcher: could not give back its lease", exc_info=True)

    def _cancel_elsewhere(self) -> None:
        """A task left in another loop (a test client makes a loop per request) is cancelled there."""
        task, loop = self._task, self._loop
        if task is None or task.done() or loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(task.cancel)
        except RuntimeError:  # that loop closed meanwhile
            pass

    def poke(self) -> None:
        """Look again now (thread-safe): the clock moved, or a request may have changed what is due."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._wake_all, wake)
        except RuntimeError:  # the loop closed meanwhile
            pass

    def _wake_all(self, wake: asyncio.Event) -> None:
        wake.set()
        for listener in list(self._listeners):
            listener.set()

    def subscribe(self) -> Subscription:
        """For a stream (call in the serving loop): wake-ups at every clock change or answered write request."""
        return Subscription(self._listeners)


    async def _run(self) -> None:
        assert self._wake is not None
        # no proxies from the environment: deliveries go to loopback receivers unless the admin API allows more;
        # the TLS context (the CA bundle, read from disk: ~30 ms) is made in a worker thread, not on the loop
        tls = await asyncio.to_thread(ssl.create_default_context)
        async with httpx.AsyncClient(trust_env=False, verify=tls, headers={"user-agent": "mockserver-webhooks"}) as client:
            while True:
                self._wake.clear()
                try:
                    soonest = await self.tick(client)
                except Exception:  # one bad event must not stop every later delivery
                    log.exception("webhook dispatcher: a tick failed")
                    soonest = None
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._real_wait(soonest)):
                        await self._wake.wait()

    def _real_wait(self, soonest: float | None) -> float:
        cap = DURABLE_SLEEP if self.engine.store.durable else MAX_SLEEP
        speed = self.engine.clock.speed
        if soonest is None or speed <= 0:
            return cap
        return min(cap, max(0.0, (soonest - self.engine.now()) / speed) + 0.005)

    # -- one look ------------------------------------------------------------------------------------------
    def collect(self, now: float) -> tuple[list[tuple[Event, int]], float | None]:
        """The events whose moment has passed and that the outbox does not hold yet (with their number of
        attempts), and the moment of the next one (None: none known). Changes nothing."""
        outbox, seed = self.engine.outbox, self.engine.settings.seed
        owed: list[tuple[Event, int]] = []
        soonest: float | None = None
        for name, provider in self.providers.items():
            announcer = provider.webhooks
            for _, namespace, backend in self.engine.store.namespaces(name):
                if announcer.account_endpoints and not outbox.endpoints_for(name, namespace):
                    continue
                for event in announcer.events(namespace, backend, seed):
                    if event.moment <= now:
                        if outbox.owes(event):
                            owed.append((event, announcer.policy.max_attempts))
                    elif soonest is None or event.moment < soonest:
                        soonest = event.moment
        return owed, soonest

    async def tick(self, client: httpx.AsyncClient) -> float | None:
        self.ticks += 1
        store, outbox = self.engine.store, self.engine.outbox
        if store.durable and not await self._hold_lease():
            return None  # another process sends; look again soon (it may stop)

        async def look() -> tuple[list[tuple[Event, int]], list[str], float | None]:
            owed, soonest = self.collect(now)
            return owed, [d.id for d in outbox.due(now)], soonest

        async def queue() -> list[str]:
            for event, max_attempts in owed:
                outbox.offer(event, max_attempts)
            return [d.id for d in outbox.due(now)]

        while True:
            now = self.engine.now()
            owed, due, soonest = await store.atomically(look, write=False)
            if owed:
                due = await store.atomically(queue, write=True)
            if not due:
                break
            for delivery_id in due:
                await self.send(client, delivery_id, now)
        retry = outbox.next_at()
        moments = [m for m in (soonest, retry) if m is not None]
        return min(moments) if moments else None

    async def _hold_lease(self) -> bool:
        """Whether this dispatcher sends (durable state): it holds the lease, renewed when it runs low."""
        if self._lease_until - time.time() > LEASE_TTL - LEASE_RENEW:
            return True

        async def claim() -> bool:
            return self.engine.store.lease(LEASE, self.holder, now, LEASE_TTL)

        now = time.time()
        held = await self.engine.store.atomically(claim, write=False)  # a write only to take or renew it
        self._lease_until = now + LEASE_TTL if held else 0.0
        return held

    async def _settle(self, delivery_id: str, attempt: Attempt, policy: RetryPolicy) -> None:
        """Record an attempt (with a durable state: in a write transaction, on the delivery as stored)."""
        outbox = self.engine.outbox

        async def record() -> None:
            delivery = outbox.deliveries.get(delivery_id)
            if delivery is not None:  # None: dropped by a reset meanwhile
                outbox.settle(delivery, attempt, policy)

        await self.engine.store.atomically(record, write=True)

    async def _take_duplicate(self) -> bool:
        outbox = self.engine.outbox
        if outbox.faults.duplicates <= 0:  # the usual case: no write
            return False

        async def take() -> bool:
            return outbox.take_duplicate()

        return await self.engine.store.atomically(take, write=True)

    async def send(self, client: httpx.AsyncClient, delivery_id: str, now: float) -> None:
        outbox = self.engine.outbox
        delivery = outbox.deliveries.get(delivery_id)
        if delivery is None or delivery.next_at is None or delivery.next_at > now:
            return  # already sent, rescheduled, or dropped by a reset meanwhile
        announcer = self.providers[delivery.event.provider].webhooks
        policy = announcer.policy
        due_at, manual = delivery.next_at, delivery.manual
        number = sum(1 for a in delivery.attempts if not a.duplicate) + 1
        host = httpx.URL(delivery.url).host
        if not outbox.allows(host):
            refusal = f"not sent: {host} is not an allowed host (allowed: {', '.join(outbox.allowed_hosts)}; POST /_mock/webhooks/hosts to allow more)"
            await self._settle(delivery_id, Attempt(number, due_at, self.engine.now(), time.time(), error=refusal, manual=manual, refused=True), policy)
            return
        copies = 1 + (0 if manual else int(await self._take_duplicate()))
        for copy in range(copies):
            real = time.time()
            body, headers = announcer.render(delivery, number, real, outbox)
            status: int | None = None
            error: str | None = None
            excerpt = ""
            started = time.perf_counter()
            try:
                response = await client.post(delivery.url, content=body, headers=headers, timeout=policy.timeout)
                status, excerpt = response.status_code, response.text[:EXCERPT]
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
            except httpx.TimeoutException:
                error = f"no answer within {policy.timeout:g} s"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            latency = round((time.perf_counter() - started) * 1000, 2)
            attempt = Attempt(number, due_at, self.engine.now(), real, status, latency, error, excerpt, duplicate=copy > 0, manual=manual)
            await self._settle(delivery_id, attempt, policy)


class Subscription:
    """One stream's wake-ups. A poke that lands while the stream is busy is kept until its next ``wait``."""

    def __init__(self, listeners: set[asyncio.Event]) -> None:
        self._listeners = listeners
        self._event = asyncio.Event()
        listeners.add(self._event)

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, timeout)):  # not wait_for: it can drop a cancellation (above)
                await self._event.wait()
        self._event.clear()

    def close(self) -> None:
        self._listeners.discard(self._event)


class WebhookDispatch:
    """ASGI middleware: starts the dispatcher in the serving loop and wakes it after every write."""

    def __init__(self, app: ASGIApp, dispatcher: Dispatcher) -> None:
        self.app = app
        self.dispatcher = dispatcher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._until_shutdown(receive), send)
            return
        if scope["type"] in ("http", "websocket") and self.dispatcher.providers:
            self.dispatcher.ensure_started()
        try:
            await self.app(scope, receive, send)
        finally:
            # a write (create, cancel, admin change) may move the next moment; a read never does, and the
            # clock wakes the dispatcher itself
            if scope["type"] == "http" and scope.get("method") not in ("GET", "HEAD", "OPTIONS"):
                self.dispatcher.poke()

    def _until_shutdown(self, receive: Receive) -> Receive:
        """The lifespan's messages, the dispatcher stopped before the shutdown reaches the app."""

        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.dispatcher.stop()
            return message

        return wrapped


def describe(delivery: Delivery, mask: Any = None) -> dict[str, Any]:
    """A delivery as the admin API shows it: the event, the target, every attempt."""
    event = delivery.event
    return {
        "id": delivery.id,
        "provider": event.provider,
        "namespace": mask(event.namespace) if mask else event.namespace,
        "event_id": event.id,
        "event_type": event.type,
        "subject": event.subject,
        "moment": event.moment,
        "url": delivery.url,
        "endpoint_id": delivery.endpoint_id,
        "state": delivery.state,
        "next_at": delivery.next_at,
        "max_attempts": delivery.max_attempts,
        "attempts": [
            {
                "number": a.number, "due_at": a.due_at, "sent_at": a.sent_at, "real_at": a.real_at, "status": a.status,
                "latency_ms": a.latency_ms, "error": a.error, "response_excerpt": a.excerpt, "outcome": a.outcome,
                "duplicate": a.duplicate, "manual": a.manual, "refused": a.refused,
            }
            for a in delivery.attempts
        ],
    }


__all__ = ["Dispatcher", "Subscription", "WebhookDispatch", "describe"]
