"""Named behaviours of a Message Batch, chosen per request (``X-Mock-Scenario``) or per server.

A scenario is a dict; this provider reads ``outcomes`` (relative weights of ``succeeded`` and ``errored`` for the
requests whose params are valid; a request the Messages API would refuse always ends ``errored``), and the
durations ``in_progress`` (from creation until the last request is processed; ``inf``: never, so the batch
expires at 24 h) and ``cancelling`` (from a cancel until the batch ends), in simulated seconds (a scenario file
gives them under ``durations:``, as for the OpenAI family). User scenarios
(``engine.scenarios``) win over the built-in ones of the same name; a key a scenario lacks takes the default
(``Durations.in_progress`` and ``Durations.cancelling`` on the settings for the durations).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...core.outcomes import Mix, normalise_mix, pick, seconds
from ...core.registries import resolve_or_default

OUTCOMES = ("succeeded", "errored")

BUILTIN: dict[str, dict[str, Any]] = {
    "default": {"outcomes": {"succeeded": 1}},
    "partial_failure": {"outcomes": {"succeeded": 0.7, "errored": 0.3}},
    "all_errored": {"outcomes": {"errored": 1}},
    "expire": {"in_progress": float("inf")},  # nothing is processed: every request ends expired at 24 h
    "stall": {"in_progress": 3_600.0},  # an hour in progress
    "slow_cancel": {"cancelling": 600.0},  # a cancel takes ten minutes to end the batch
}


@dataclass(frozen=True)
class Plan:
    """How one batch will behave, fixed when it is created (durations in simulated seconds; None: the settings')."""

    scenario: str
    mix: Mix
    in_progress: float | None = None
    cancelling: float | None = None

    def pick(self, at: float) -> str:
        return pick(self.mix, at)


def plan_for(name: str | None, user: Mapping[str, dict[str, Any]], explicit: bool = True) -> Plan:
    """The plan of scenario ``name`` (resolved by ``core.registries.resolve_or_default``, the rule of every provider)."""
    name, scenario = resolve_or_default(name, user, BUILTIN, explicit)
    mix = normalise_mix(scenario.get("outcomes", BUILTIN["default"]["outcomes"]), OUTCOMES, name)
    return Plan(name, mix, seconds(scenario, "in_progress", name), seconds(scenario, "cancelling", name))
