"""Named behaviours a batch can be given at creation (metadata ``mock_scenario`` or header ``X-Mock-Scenario``)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from ...core.registries import resolve_scenario
from .models import BatchPlan

# each entry overrides fields of the default BatchPlan
BUILTIN: dict[str, dict[str, Any]] = {
    "complete": {},
    "fail_validation": {"validation_error": "token_limit_exceeded"},
    "expire": {"in_progress": math.inf},
    "partial_failure": {"line_failure_rate": 0.3},
    "stall": {"in_progress": 3_600.0},
    "slow_finalize": {"finalizing": 600.0},
    "cancel_race": {"cancel_race": True},
}


def plan_for(name: str | None, default: BatchPlan, extra: Mapping[str, dict[str, Any]] | None = None, explicit: bool = True) -> BatchPlan:
    """The plan of scenario ``name`` (resolved by ``core.registries.resolve_scenario``, the rule of every provider)."""
    found, scenario = resolve_scenario(name, extra or {}, BUILTIN, explicit, param="metadata.mock_scenario")
    if found is None:
        return default
    fields = {f.name for f in dataclasses.fields(BatchPlan)}
    overrides = {k: v for k, v in scenario.items() if k in fields}
    return dataclasses.replace(default, scenario=found, **overrides)
