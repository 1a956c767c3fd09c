"""Seeded outcomes shared by every simulated job: order-independent randomness and outcome mixes."""

from __future__ import annotations

import hashlib
import math
import string
from typing import Any

from .errors import InvalidRequest

Mix = tuple[tuple[str, float], ...]  # (outcome, probability); the probabilities add up to 1


def digest(*parts: object) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()


_BASE62 = string.ascii_letters + string.digits


def derived_id(prefix: str, *parts: object, length: int = 24) -> str:
    """An id fixed by ``parts`` (seed, object id, role or index): drawn from no stream, so minting it (on a read, say)
    shifts no other id."""
    number = int(digest(*parts), 16)
    chars = []
    for _ in range(length):
        number, rest = divmod(number, 62)
        chars.append(_BASE62[rest])
    return prefix + "".join(chars)


def fraction(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts`` (seed, job id, index ...), whatever the order of reads."""
    return int(digest(*parts)[:13], 16) / 16**13


def share(step: float, part: float) -> float:
    """``part`` (0..1) of a slot of ``step`` seconds; a step of ``inf`` (never) still gives 0 for part 0."""
    return 0.0 if part == 0 else step * part


def pick(mix: Mix, at: float) -> str:
    """The outcome at ``at`` (in [0, 1)) of the cumulative mix."""
    total = 0.0
    for outcome, probability in mix:
        total += probability
        if at < total:
            return outcome
    return next(outcome for outcome, p in reversed(mix) if p > 0)


def seconds(scenario: dict[str, Any], key: str, name: str) -> float | None:
    """A duration the scenario sets (``inf`` or ``"never"``: never happens), or None."""
    value = scenario.get(key)
    if value is None:
        return None
    if value == "never":
        return math.inf
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value < 0:
        raise InvalidRequest(f"Mock scenario {name!r}: {key!r} must be a number of seconds >= 0, got {value!r}.")
    return float(value)


def normalise_mix(raw: Any, allowed: tuple[str, ...], scenario: str) -> Mix:
    """Relative weights (missing outcomes weigh 0) as probabilities, in the order of ``allowed``."""
    if not isinstance(raw, dict):
        raise InvalidRequest(f"Mock scenario {scenario!r}: 'outcomes' must be a mapping of {', '.join(allowed)} to weights.")
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise InvalidRequest(f"Mock scenario {scenario!r}: unknown outcomes {', '.join(map(repr, unknown))} (known: {', '.join(allowed)}).")
    weights = {}
    for name in allowed:
        value = raw.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != value:
            raise InvalidRequest(f"Mock scenario {scenario!r}: the weight of {name!r} must be a number >= 0, got {value!r}.")
        weights[name] = float(value)
    total = sum(weights.values())
    if total <= 0 or total == float("inf"):
        raise InvalidRequest(f"Mock scenario {scenario!r}: outcome weights must add up to a positive finite number.")
    return tuple((name, weights[name] / total) for name in allowed)
