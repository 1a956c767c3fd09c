"""Seeded id factory: the one source of randomness for ids, so a seed reproduces a whole run."""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Callable
from typing import Any

_ALPHABET = string.ascii_letters + string.digits


class IdFactory:
    def __init__(self, seed: int | None = 0) -> None:
        self._lock = threading.Lock()
        # durable state: called before an id of a persisted stream is drawn (a read transaction becomes a write)
        self.on_draw: Callable[[], None] | None = None
        self._local: dict[str, random.Random] = {}  # streams kept per process (request ids), never persisted
        self.draws = 0  # ids drawn from persisted streams: a write saves the streams when this moved
        self._streams: dict[str, random.Random] = {}
        self._counters: dict[str, int] = {}
        self.reset(seed)

    def make_local(self, prefix: str, salt: str) -> None:
        """Draw ``prefix`` ids from a per-process stream salted with ``salt`` (unique across processes)."""
        with self._lock:
            self._local[prefix] = random.Random(f"{getattr(self, 'seed', 0)}:{prefix}:{salt}")

    def state(self) -> dict[str, Any]:
        """The seed, every persisted stream's position and the counters: a restart carries on from here."""
        with self._lock:
            streams = {prefix: stream.getstate() for prefix, stream in self._streams.items()}
            return {"seed": self.seed, "streams": streams, "counters": dict(self._counters)}

    def load_state(self, state: dict[str, Any]) -> None:
        with self._lock:
            self.seed = state["seed"]
            self._streams = {}
            for prefix, position in state["streams"].items():
                stream = self._streams[prefix] = random.Random()
                stream.setstate(position)
            self._counters = dict(state["counters"])

    def reset(self, seed: int | None = None) -> None:
        with self._lock:
            if seed is not None:
                self.seed = seed
            self._streams = {}
            self._counters = {}
            self.draws += 1

    def _stream(self, prefix: str) -> random.Random:
        """One seeded stream per prefix: minting request ids (every call) never shifts batch or file ids."""
        local = self._local.get(prefix)
        if local is not None:
            return local
        if self.on_draw is not None:
            self.on_draw()
        self.draws += 1
        if prefix not in self._streams:
            self._streams[prefix] = random.Random(f"{getattr(self, 'seed', 0)}:{prefix}")
        return self._streams[prefix]

    def new(self, prefix: str, length: int = 24) -> str:
        with self._lock:
            stream = self._stream(prefix)
            return prefix + "".join(stream.choice(_ALPHABET) for _ in range(length))

    def hex(self, prefix: str = "", length: int = 32) -> str:
        with self._lock:
            stream = self._stream(prefix)
            return prefix + "".join(stream.choice("0123456789abcdef") for _ in range(length))

    def sequence(self, scope: str) -> int:
        """1, 2, 3 ... per scope: integer ids such as FormantAI's batch ids."""
        if self.on_draw is not None:
            self.on_draw()
        with self._lock:
            self.draws += 1
            value = self._counters.get(scope, 0) + 1
            self._counters[scope] = value
            return value
