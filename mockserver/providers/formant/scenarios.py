"""Named outcome mixes for batch calls, chosen per request (``X-Mock-Scenario``) or per server.

A scenario is a dict; this provider reads ``outcomes`` (relative weights of ``success, not_success,
failed, busy, no_answer, unreachable, socket_failure``, normalised; missing outcomes weigh 0) and
``max_attempts`` (dial attempts per call, >= 1), and the durations ``validating`` (the batch's pending
phase), ``call`` (one wave of calls) and ``retry_delay`` in simulated seconds (``inf``: never). User
scenarios (``engine.scenarios``) win over the built-in ones of the same name; a scenario without a key
uses the default for it (``Durations`` on the settings for the durations).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...core.errors import InvalidRequest
from ...core.outcomes import normalise_mix, pick, seconds
from ...core.registries import resolve_or_default

OUTCOMES = ("success", "not_success", "failed", "busy", "no_answer", "unreachable", "socket_failure")

# mostly answered and successful, with the usual share of unanswered, busy and unreachable numbers
DEFAULT_MIX: dict[str, float] = {
    "success": 0.62, "not_success": 0.13, "no_answer": 0.10, "busy": 0.05,
    "unreachable": 0.04, "failed": 0.03, "socket_failure": 0.03,
}
DEFAULT_MAX_ATTEMPTS = 3  # the first dial and two retries

BUILTIN: dict[str, dict[str, Any]] = {
    "default": {"outcomes": DEFAULT_MIX},
    "all_success": {"outcomes": {"success": 1}},
    "no_retries": {"outcomes": DEFAULT_MIX, "max_attempts": 1},
    "hard_to_reach": {"outcomes": {"success": 0.3, "not_success": 0.1, "no_answer": 0.4, "busy": 0.15, "unreachable": 0.05}},
    "telephony_outage": {"outcomes": {"success": 0.2, "failed": 0.4, "socket_failure": 0.4}},
    "all_unreachable": {"outcomes": {"unreachable": 1}},
    "stall": {"call": 3_600.0},  # a wave of calls takes an hour: the batch stays processing
}


@dataclass(frozen=True)
class Plan:
    """How the calls of one batch will end, fixed when the batch is created."""

    scenario: str
    mix: tuple[tuple[str, float], ...]  # (outcome, probability), probabilities sum to 1
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    # simulated seconds; None: the server's settings.durations
    validating: float | None = None
    call: float | None = None
    retry_delay: float | None = None

    def pick(self, at: float) -> str:
        """The outcome at ``at`` (in [0, 1)) of the cumulative mix."""
        return pick(self.mix, at)


def plan_for(name: str | None, user: Mapping[str, dict[str, Any]], explicit: bool = True) -> Plan:
    """The plan of scenario ``name`` (resolved by ``core.registries.resolve_or_default``, the rule of every provider)."""
    name, scenario = resolve_or_default(name, user, BUILTIN, explicit)
    attempts = scenario.get("max_attempts", DEFAULT_MAX_ATTEMPTS)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise InvalidRequest(f"Mock scenario {name!r}: 'max_attempts' must be an integer >= 1, got {attempts!r}.")
    durations = {key: seconds(scenario, key, name) for key in ("validating", "call", "retry_delay")}
    return Plan(name, normalise_mix(scenario.get("outcomes", DEFAULT_MIX), OUTCOMES, name), attempts, **durations)
