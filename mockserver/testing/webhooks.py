"""``harness.webhooks``: what a test does with the fake's webhooks without going through HTTP."""

from __future__ import annotations

from collections.abc import Callable

from ..config.webhooks import EndpointSpec, register
from ..core.engine import Engine
from ..core.outbox import Delivery, Endpoint
from ..providers.base import Provider


class WebhookControl:
    def __init__(self, engine: Engine, providers: dict[str, Provider], poke: Callable[[], None] | None = None) -> None:
        self._engine = engine
        self._providers = providers
        self._poke = poke or (lambda: None)

    def register(self, provider: str, key: str, url: str, secret: str | None = None, events: list[str] | None = None) -> Endpoint:
        """An account endpoint for ``provider`` and API ``key`` (ValueError if the provider has none); it
        receives the events that happen from now on. The endpoint's ``secret`` is what signatures use."""
        endpoint = register(self._engine, self._providers, EndpointSpec(provider, key, url, secret, tuple(events) if events is not None else None))
        self._poke()
        return endpoint

    def deliveries(self, provider: str | None = None, subject: str | None = None) -> list[Delivery]:
        """Every delivery with its attempts, oldest first."""
        return self._engine.outbox.list(provider, None, subject)

    def redeliver(self, delivery_id: str) -> Delivery:
        delivery = self._engine.outbox.redeliver(delivery_id, self._engine.now())
        if delivery is None:
            raise KeyError(delivery_id)
        self._poke()
        return delivery

    def pause(self) -> None:
        self._engine.outbox.paused = True

    def resume(self) -> None:
        self._engine.outbox.paused = False
        self._poke()

    def faults(self, duplicates: int = 0, reorder: bool = False) -> None:
        """Send the next ``duplicates`` deliveries twice; send deliveries due together newest first."""
        self._engine.outbox.faults.duplicates, self._engine.outbox.faults.reorder = duplicates, reorder
        self._poke()


__all__ = ["WebhookControl"]
