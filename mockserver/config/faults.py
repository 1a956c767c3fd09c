"""Faults: an error status, added latency or a dropped connection, for chosen calls of a provider operation.

One fault (in a scenario file's ``faults:`` list, a marker's ``faults=[...]`` or ``POST /_mock/faults``)::

    provider: anyapi | portkey | phaseo | retell | formant | "*"     (default "*")
    operation: <operationId> | "*"                                  (default "*")
    # what happens (at least one of status, latency, drop; status and drop exclude each other)
    status: 429 | 500 | 502 | 503      # answered in the provider's own error envelope
    retry_after: <seconds > 0>         # Retry-After (+ retry-after-ms where an SDK reads it); 429 default 1
    should_retry: true | false         # sends x-should-retry (the Stainless SDKs obey it)
    message: <text>                    # the error message (default: says it is a simulated fault)
    latency: <seconds> | [<min>, <max>]   # real seconds slept before answering (random in the range)
    drop: true                         # close the connection without any response
    # which matching calls (all optional; together: after K, every Nth, with probability p, at most N times)
    after: <K>            # skip the first K matching calls
    every: <N>            # then only every Nth matching call (N, 2N, ... counted after K)
    probability: <0..1>   # seeded by the server seed and the fault id
    times: <N>            # fire at most N times ("the next N calls": times: N)

Faults are checked in order after routing; the first one that fires answers (a latency-only fault delays
the call and lets it through). Responses made by a fault are journaled with its id and are not checked
against the spec (502 and 503 are declared by no spec).
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..core.engine import Engine
from .documents import Document, DocumentError, Key, integer, mapping, number, string
from .settings import PROVIDER_NAMES

STATUSES = (429, 500, 502, 503)
FAULT_KEYS = (
    "provider", "operation", "status", "retry_after", "should_retry", "message", "latency", "drop",
    "after", "every", "probability", "times",
)

_lock = threading.Lock()  # fault counters are touched by the server thread and read by tests


@dataclass
class Fault:
    provider: str = "*"
    operation: str = "*"
    status: int | None = None
    retry_after: float | None = None
    should_retry: bool | None = None
    message: str | None = None
    latency: tuple[float, float] | None = None
    drop: bool = False
    after: int = 0
    every: int | None = None
    probability: float | None = None
    times: int | None = None
    id: str = ""
    origin: str = ""  # where it was defined, for error messages
    seen: int = 0  # matching calls so far
    fired: int = 0  # calls it answered (or delayed)
    _rng: random.Random | None = field(default=None, repr=False, compare=False)
    _latency_rng: random.Random | None = field(default=None, repr=False, compare=False)

    def matches(self, provider: str, operation: str) -> bool:
        return self.provider in ("*", provider) and self.operation in ("*", operation)

    def fires(self, seed: int) -> bool:
        """Count one matching call; True if this one is hit. Call under ``_lock``."""
        self.seen += 1
        n = self.seen - self.after
        if n <= 0 or (self.every is not None and n % self.every) or (self.times is not None and self.fired >= self.times):
            return False
        if self.probability is not None:
            if self._rng is None:
                self._rng = random.Random(f"{seed}:{self.id}")
            if self._rng.random() >= self.probability:
                return False
        self.fired += 1
        return True

    def delay(self, seed: int) -> float:
        if self.latency is None:
            return 0.0
        low, high = self.latency
        if low == high:
            return low
        with _lock:
            if self._latency_rng is None:
                self._latency_rng = random.Random(f"{seed}:latency:{self.id}")
            return self._latency_rng.uniform(low, high)

    def fresh(self) -> Fault:
        """The same rule with its counters at zero."""
        return replace(self, seen=0, fired=0, _rng=None, _latency_rng=None)

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if not k.startswith("_") and k != "origin"}
        data["latency"] = list(self.latency) if self.latency else None
        return data


def parse_fault(doc: Document, key: Key, value: Any) -> Fault:
    data = mapping(doc, key, value, FAULT_KEYS)
    fault = Fault(origin=doc.where((*key, "operation") if "operation" in data else key))
    for name, item in data.items():
        here = (*key, name)
        if name == "provider":
            fault.provider = string(doc, here, item, ("*", *PROVIDER_NAMES))
        elif name == "operation":
            fault.operation = string(doc, here, item)
        elif name == "status":
            if item not in STATUSES or isinstance(item, bool):
                raise doc.error(here, f"one of {', '.join(map(str, STATUSES))}", item)
            fault.status = item
        elif name == "retry_after":
            fault.retry_after = number(doc, here, item, 0.001, 3600.0)
        elif name in ("should_retry", "drop"):
            if not isinstance(item, bool):
                raise doc.error(here, "true or false", item)
            setattr(fault, name, item)
        elif name == "message":
            fault.message = string(doc, here, item)
        elif name == "latency":
            fault.latency = _latency(doc, here, item)
        elif name == "probability":
            fault.probability = number(doc, here, item, 0.0, 1.0)
        elif name in ("every", "times"):
            setattr(fault, name, integer(doc, here, item, 1))
        elif name == "after":
            fault.after = integer(doc, here, item, 0)
    if fault.status is None and not fault.drop and fault.latency is None:
        raise doc.error(key, "a fault with at least one of 'status', 'latency' or 'drop: true'", show_got=False)
    if fault.status is not None and fault.drop:
        raise doc.error(key, "either 'status' or 'drop: true', not both", show_got=False)
    for name in ("retry_after", "should_retry", "message"):
        if name in data and fault.status is None:
            raise doc.error((*key, name), f"'{name}' only together with 'status'", show_got=False)
    return fault


def _latency(doc: Document, key: Key, value: Any) -> tuple[float, float]:
    if isinstance(value, list):
        if len(value) != 2:
            raise doc.error(key, "seconds, or a range [min, max]", value)
        low, high = (number(doc, (*key, i), v, 0.0, 600.0) for i, v in enumerate(value))
        if low > high:
            raise doc.error(key, "a range [min, max] with min <= max", value)
        return low, high
    seconds = number(doc, key, value, 0.0, 600.0)
    return seconds, seconds


def parse_faults(doc: Document, key: Key, value: Any) -> list[Fault]:
    if isinstance(value, dict):
        return [parse_fault(doc, key, value)]
    if not isinstance(value, list):
        raise doc.error(key, "a list of faults", value)
    return [parse_fault(doc, (*key, i), item) for i, item in enumerate(value)]


def check_operations(faults: list[Fault], operations: dict[str, set[str]]) -> None:
    """Every fault names a mounted provider and one of its operationIds (or ``*``)."""
    for fault in faults:
        if fault.provider != "*" and fault.provider not in operations:
            raise DocumentError(f"{fault.origin}: provider {fault.provider!r} is not mounted (mounted: {', '.join(operations)})")
        if fault.operation == "*":
            continue
        known = operations[fault.provider] if fault.provider != "*" else set().union(*operations.values())
        if fault.operation not in known:
            raise DocumentError(
                f"{fault.origin}: expected an operationId of {fault.provider if fault.provider != '*' else 'a provider'} "
                f"or '*' ({', '.join(sorted(known))}), got {fault.operation!r}"
            )


def add_faults(engine: Engine, faults: list[Fault]) -> list[Fault]:
    """Install fresh copies of ``faults`` after the active ones, with ids fault_1, fault_2 ..."""
    return engine.faults.add(faults)
