"""Seeded id factory: the one source of randomness for ids, so a seed reproduces a whole run."""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Callable
from typing import Any

_ALPHABET = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"
_MASK64 = (1 << 64) - 1


def _table(alphabet: str) -> bytes | None:
    """The top byte of a 32-bit word -> the character ``alphabet[getrandbits(bits)]`` takes from that word
    (its top ``bits`` bits), or NUL where that draw is rejected (beyond the alphabet). None for an alphabet
    that rejects more than one draw in eight (hexadecimal: one in two), which is drawn one by one."""
    size, bits = len(alphabet), len(alphabet).bit_length()
    if size * 8 < 7 << bits:
        return None
    shift = 8 - bits
    return bytes(ord(alphabet[b >> shift]) if b >> shift < size else 0 for b in range(256))


_TABLES: dict[str, bytes | None] = {}


def _choices(stream: random.Random, alphabet: str, length: int) -> str:
    """``"".join(stream.choice(alphabet) for _ in range(length))``: the same characters from the same draws.

    Random.choice takes ``getrandbits(bits)`` (the top ``bits`` bits of one 32-bit word of the Mersenne
    Twister) and draws again while it is beyond the alphabet. ``getrandbits(32 * n)`` is the next ``n`` words,
    least significant first, so one call gives a whole id's words; only as many words are drawn as the
    choices would have consumed (a rejected word is followed by as many more as were rejected), so the
    stream is left where the one-by-one draws leave it. ASCII alphabets of 1 to 255 characters, no NUL."""
    if alphabet not in _TABLES:
        _TABLES[alphabet] = _table(alphabet)
    table = _TABLES[alphabet]
    if table is None:
        return _one_by_one(stream, alphabet, length)
    out = stream.getrandbits(32 * length).to_bytes(4 * length, "little")[3::4].translate(table)
    while b"\0" in out:  # rejected words (their table entry): draw as many again
        out = out.replace(b"\0", b"")
        need = length - len(out)
        out += stream.getrandbits(32 * need).to_bytes(4 * need, "little")[3::4].translate(table)
    return out.decode("ascii")


def _one_by_one(stream: random.Random, alphabet: str, length: int) -> str:
    size = len(alphabet)
    bits = size.bit_length()
    getrandbits = stream.getrandbits
    out = []
    for _ in range(length):
        r = getrandbits(bits)
        while r >= size:
            r = getrandbits(bits)
        out.append(alphabet[r])
    return "".join(out)


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
            self._salts: dict[str, tuple[int, int]] = {}
            self._counted: dict[str, int] = {}
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
            return prefix + _choices(self._stream(prefix), _ALPHABET, length)

    def hex(self, prefix: str = "", length: int = 32) -> str:
        with self._lock:
            return prefix + _choices(self._stream(prefix), _HEX, length)

    def counted(self, prefix: str) -> str:
        """``prefix`` + 32 hex digits, cheaply (for ids minted on every call, such as request ids): the n-th
        value of a bijective mix of a counter with a salt drawn once per seed and prefix, so ids are unique,
        look random, repeat under one seed, and are a stream of their own (they never shift other ids)."""
        with self._lock:
            salts = self._salts.get(prefix)
            if salts is None:  # a per-process stream (make_local: several workers) salts its own counter
                stream = self._local.get(prefix) or random.Random(f"{getattr(self, 'seed', 0)}:{prefix}:counted")
                salts = self._salts[prefix] = (stream.getrandbits(64), stream.getrandbits(64))
            n = self._counted.get(prefix, 0) + 1
            self._counted[prefix] = n
        high, low = salts
        return f"{prefix}{high ^ (n * 0xD6E8FEB86659FD93 & _MASK64):016x}{(n * 0x9E3779B97F4A7C15 + low) & _MASK64:016x}"

    def sequence(self, scope: str) -> int:
        """1, 2, 3 ... per scope: integer ids such as FormantAI's batch ids."""
        if self.on_draw is not None:
            self.on_draw()
        with self._lock:
            self.draws += 1
            value = self._counters.get(scope, 0) + 1
            self._counters[scope] = value
            return value
