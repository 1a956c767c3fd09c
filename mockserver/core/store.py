"""State per provider and per namespace (one namespace per API key), created lazily, reset in one call."""

from __future__ import annotations

import copy
import threading
from typing import Any, Callable, Generic, Iterator, TypeVar

B = TypeVar("B")


class Store(Generic[B]):
    def __init__(self, factories: dict[str, Callable[[], B]], shared: tuple[Any, ...] = ()) -> None:
        self._factories = factories
        self._shared = shared  # objects (clock, ids, settings) a snapshot must not copy
        self._lock = threading.RLock()
        self._backends: dict[tuple[str, str], B] = {}

    def backend(self, provider: str, namespace: str) -> B:
        with self._lock:
            key = (provider, namespace)
            if key not in self._backends:
                self._backends[key] = self._factories[provider]()
            return self._backends[key]

    def namespaces(self, provider: str | None = None) -> Iterator[tuple[str, str, B]]:
        with self._lock:
            items = list(self._backends.items())
        for (name, namespace), backend in items:
            if provider is None or name == provider:
                yield name, namespace, backend

    def reset(self) -> None:
        with self._lock:
            self._backends.clear()

    def snapshot(self) -> dict[tuple[str, str], B]:
        with self._lock:
            return copy.deepcopy(self._backends, memo={id(obj): obj for obj in self._shared})

    def restore(self, snapshot: dict[tuple[str, str], B]) -> None:
        with self._lock:
            self._backends = copy.deepcopy(snapshot, memo={id(obj): obj for obj in self._shared})
