"""Named outcome mixes for batch tests, chosen per request (``X-Mock-Scenario``) or per server.

A scenario is a dict; this provider reads its ``outcomes`` key: ``{pass: p, fail: p, error: p}``
(relative weights, normalised; missing outcomes weigh 0) and ``test_run`` (simulated seconds a wave of runs
takes; ``inf``: runs never start). User scenarios (``engine.scenarios``) win over the built-in ones of the
same name. A scenario without a key uses the default for it (the mix below, ``Durations.test_run``).

Batch calls read ``call_outcomes`` (``{ended: p, not_connected: p, error: p}``), ``call`` (simulated seconds a
wave of calls takes; default ``Durations.call``) and ``concurrency`` (the account's concurrent-call limit,
default 20, from which a batch's ``reserved_concurrency`` is taken).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...core.errors import InvalidRequest
from ...core.outcomes import normalise_mix, pick, seconds
from ...core.registries import resolve_or_default

OUTCOMES = ("pass", "fail", "error")

# mostly pass: a healthy agent under test, with the odd failed metric and rare simulation error
DEFAULT_MIX: dict[str, float] = {"pass": 0.8, "fail": 0.15, "error": 0.05}

# Batch calls (``call_outcomes``): how each call of a batch call ends. Most calls are answered and end
# normally; some are not answered (busy, no answer); few fail. Retell publishes no rates.
CALL_OUTCOMES = ("ended", "not_connected", "error")
DEFAULT_CALL_MIX: dict[str, float] = {"ended": 0.8, "not_connected": 0.15, "error": 0.05}
# Retell's default concurrency on pay-as-you-go: 20 concurrent calls (docs.retellai.com/deploy/concurrency)
DEFAULT_CONCURRENCY = 20

BUILTIN: dict[str, dict[str, Any]] = {
    "default": {"outcomes": DEFAULT_MIX, "call_outcomes": DEFAULT_CALL_MIX},
    "all_pass": {"outcomes": {"pass": 1}, "call_outcomes": {"ended": 1}},
    "all_fail": {"outcomes": {"fail": 1}, "call_outcomes": {"not_connected": 1}},
    "all_error": {"outcomes": {"error": 1}, "call_outcomes": {"error": 1}},
    "mixed": {"outcomes": {"pass": 0.5, "fail": 0.3, "error": 0.2}, "call_outcomes": {"ended": 0.5, "not_connected": 0.3, "error": 0.2}},
    # runs and calls take an hour: the batch test stays in_progress, the calls stay registered
    "stall": {"test_run": 3_600.0, "call": 3_600.0},
}


@dataclass(frozen=True)
class Plan:
    """How the runs of one batch test will end, fixed when the batch is created."""

    scenario: str
    mix: tuple[tuple[str, float], ...]  # (outcome, probability), probabilities sum to 1
    test_run: float | None = None  # None: settings.durations.test_run

    def pick(self, at: float) -> str:
        """The outcome at ``at`` (in [0, 1)) of the cumulative mix."""
        return pick(self.mix, at)


def plan_for(name: str | None, user: Mapping[str, dict[str, Any]], explicit: bool = True) -> Plan:
    """The plan of scenario ``name`` (resolved by ``core.registries.resolve_or_default``, the rule of every provider)."""
    name, scenario = resolve_or_default(name, user, BUILTIN, explicit)
    return Plan(name, normalise_mix(scenario.get("outcomes", DEFAULT_MIX), OUTCOMES, name), seconds(scenario, "test_run", name))


@dataclass(frozen=True)
class CallPlan:
    """How the calls of one batch call will go, fixed when the batch call is created."""

    scenario: str
    mix: tuple[tuple[str, float], ...]
    call: float | None = None  # None: settings.durations.call
    concurrency: int = DEFAULT_CONCURRENCY

    def pick(self, at: float) -> str:
        return pick(self.mix, at)


def call_plan_for(name: str | None, user: Mapping[str, dict[str, Any]], explicit: bool = True) -> CallPlan:
    """How the calls of a batch call end (resolved by ``core.registries.resolve_or_default``)."""
    name, scenario = resolve_or_default(name, user, BUILTIN, explicit)
    concurrency = scenario.get("concurrency", DEFAULT_CONCURRENCY)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidRequest(f"Mock scenario {name!r}: 'concurrency' must be a whole number >= 1, got {concurrency!r}.")
    mix = normalise_mix(scenario.get("call_outcomes", DEFAULT_CALL_MIX), CALL_OUTCOMES, name)
    return CallPlan(name, mix, seconds(scenario, "call", name), concurrency)
