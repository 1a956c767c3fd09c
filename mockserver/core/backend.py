"""What every provider's backend offers the rest of the server: the one object per (provider, namespace) that
holds its state (``Store``), seen from the admin API, the storage quotas and the fixtures loader.

A handler calls its provider's own verbs on the concrete class (``OpenAIBatchBackend``, ``RetellBackend``,
``FormantBackend``); the neutral layers call only this.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Backend(Protocol):
    def all_batches(self) -> Sequence[Any]:
        """Every batch-like job of the namespace, brought up to date (never draws an id)."""
        ...

    def describe(self, batch: Any) -> dict[str, Any]:
        """The admin API's row of one of them (``GET /_mock/batches``): at least ``id`` and ``status``."""
        ...

    def load_fixture(self, kind: str, data: dict[str, Any]) -> None:
        """Preload a fixture of ``kind`` (``mockserver.config.fixtures``); ValueError on data it cannot use."""
        ...

    def stored_bytes(self) -> int:
        """What the namespace keeps, for the storage quotas (``core.quota``)."""
        ...
