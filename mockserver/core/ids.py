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
            self._random = random.Random(getattr(self, "seed", 0))
            self._counters: dict[str, int] = {}

    def new(self, prefix: str, length: int = 24) -> str:
        with self._lock:
            return prefix + "".join(self._random.choice(_ALPHABET) for _ in range(length))

    def hex(self, prefix: str = "", length: int = 32) -> str:
        with self._lock:
            return prefix + "".join(self._random.choice("0123456789abcdef") for _ in range(length))

    def sequence(self, scope: str) -> int:
        """1, 2, 3 ... per scope: integer ids such as FormantAI's batch ids."""
        with self._lock:
            value = self._counters.get(scope, 0) + 1
            self._counters[scope] = value
            return value
