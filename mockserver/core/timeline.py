"""A job's timeline for people: the states it entered and the ones still to come, with their moments."""

from __future__ import annotations

import copy
from typing import Any

from .clock import HORIZON
from .lifecycle import Lifecycle, record


def timeline(obj: Any) -> list[dict[str, Any]]:
    """The states ``obj`` has entered, oldest first."""
    return [{"state": s, "at": at} for s, at in sorted(obj.moments.items(), key=lambda item: item[1])]


def planned(lifecycle: Lifecycle[Any], obj: Any) -> list[dict[str, Any]]:
    """The states ``obj`` will enter by itself if nobody acts (no cancel), with their moments (a copy is
    advanced to the end of time; ``obj`` itself does not move)."""
    clone = copy.copy(obj)
    clone.moments = dict(obj.moments)
    before = dict(clone.moments)
    lifecycle.advance(clone, HORIZON, record)
    return [{"state": s, "at": at} for s, at in sorted(clone.moments.items(), key=lambda item: item[1]) if s not in before]
