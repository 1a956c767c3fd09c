"""Named behaviours a batch can be given at creation (metadata ``mock_scenario`` or header ``X-Mock-Scenario``)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from ...core.errors import InvalidRequest
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


def plan_for(name: str | None, default: BatchPlan, extra: dict[str, dict[str, Any]] | None = None, explicit: bool = True) -> BatchPlan:
    """The plan of scenario ``name`` (a user scenario wins over a built-in one). An unknown name is a 400 when
    the request asked for it (``explicit``); an unknown server default (``engine.default_scenario`` is shared
    by every provider and may name another provider's scenario) gives the default plan."""
    if not name:
        return default
    catalogue = {**BUILTIN, **(extra or {})}
    if name not in catalogue and not explicit:
        return default
    if name not in catalogue:
        raise InvalidRequest(f"Unknown mock scenario {name!r}; known scenarios: {', '.join(sorted(catalogue))}.", param="metadata.mock_scenario")
    fields = {f.name for f in dataclasses.fields(BatchPlan)}
    overrides = {k: v for k, v in catalogue[name].items() if k in fields}
    return dataclasses.replace(default, scenario=name, **overrides)
