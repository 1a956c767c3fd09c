"""CHECKLIST 3: the built-in scenarios and ``plan_for``. Register this module and the provider's outcome names in
``config/scenarios.py`` (``_BUILTIN_MODULES``, ``OUTCOMES``) so scenario files may name them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...core.outcomes import Mix, normalise_mix, pick, seconds
from ...core.registries import resolve_or_default

OUTCOMES = ("succeeded", "failed")

BUILTIN: dict[str, dict[str, Any]] = {
    "default": {"outcomes": {"succeeded": 1}},
    "flaky": {"outcomes": {"succeeded": 0.5, "failed": 0.5}},
}


@dataclass(frozen=True)
class Plan:
    scenario: str
    mix: Mix
    in_progress: float | None = None  # None: settings.durations.in_progress

    def pick(self, at: float) -> str:
        return pick(self.mix, at)


def plan_for(name: str | None, user: Mapping[str, dict[str, Any]], explicit: bool = True) -> Plan:
    name, scenario = resolve_or_default(name, user, BUILTIN, explicit)
    return Plan(name, normalise_mix(scenario.get("outcomes", BUILTIN["default"]["outcomes"]), OUTCOMES, name), seconds(scenario, "in_progress", name))
