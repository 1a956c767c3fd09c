"""Seeded id factory: the one source of randomness for ids, so a seed reproduces a whole run."""

from __future__ import annotations

import random
import string
import threading

_ALPHABET = string.ascii_letters + string.digits


class IdFactory:
    def __init__(self, seed: int | None = 0) -> None:
        self._lock = threading.Lock()
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        with self._lock:
            if seed is not None:
                self.seed = seed
            self._streams: dict[str, random.Random] = {}
            self._counters: dict[str, int] = {}

    def _stream(self, prefix: str) -> random.Random:
        """One seeded stream per prefix: minting request ids (every call) never shifts batch or file ids."""
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
        with self._lock:
            value = self._counters.get(scope, 0) + 1
            self._counters[scope] = value
            return value
