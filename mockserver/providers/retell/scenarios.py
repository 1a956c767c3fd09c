"""Named outcome mixes for batch tests, chosen per request (``X-Mock-Scenario``) or per server.

A scenario is a dict; this provider reads its ``outcomes`` key: ``{pass: p, fail: p, error: p}``
(relative weights, normalised; missing outcomes weigh 0) and ``test_run`` (simulated seconds a wave of runs
takes; ``inf``: runs never start). User scenarios (``engine.scenarios``) win over the built-in ones of the
same name. A scenario without a key uses the default for it (the mix below, ``Durations.test_run``).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any

from ...core.registries import resolve_scenario
from ...core.outcomes import normalise_mix, pick, seconds

OUTCOMES = ("pass", "fail", "error")

# mostly pass: a healthy agent under test, with the odd failed metric and rare simulation error
DEFAULT_MIX: dict[str, float] = {"pass": 0.8, "fail": 0.15, "error": 0.05}

BUILTIN: dict[str, dict[str, Any]] = {
    "default": {"outcomes": DEFAULT_MIX},
    "all_pass": {"outcomes": {"pass": 1}},
    "all_fail": {"outcomes": {"fail": 1}},
    "all_error": {"outcomes": {"error": 1}},
    "mixed": {"outcomes": {"pass": 0.5, "fail": 0.3, "error": 0.2}},
    "stall": {"test_run": 3_600.0},  # runs take an hour: the batch stays in_progress
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
    """The plan of scenario ``name`` (resolved by ``core.registries.resolve_scenario``, the rule of every provider)."""
    found, scenario = resolve_scenario(name, user, BUILTIN, explicit)
    if found is None:
        found, scenario = "default", BUILTIN["default"]
    name = found
    return Plan(name, normalise_mix(scenario.get("outcomes", DEFAULT_MIX), OUTCOMES, name), seconds(scenario, "test_run", name))
