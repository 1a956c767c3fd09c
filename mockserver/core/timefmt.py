"""Moments on the wire: each provider declares one ISO-8601 style, and every timestamp it sends uses it."""

from __future__ import annotations

import datetime
from typing import Literal

Style = Literal["Z", "+00:00"]


def iso(seconds: float, style: Style = "Z", timespec: str = "auto") -> str:
    """Epoch ``seconds`` as UTC ISO-8601: ``2026-12-01T08:00:00Z`` (style ``Z``) or ``...+00:00``."""
    text = datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat(timespec=timespec)
    return text.replace("+00:00", "Z") if style == "Z" else text


def iso_or_none(seconds: float | None, style: Style = "Z", timespec: str = "auto") -> str | None:
    return None if seconds is None else iso(seconds, style, timespec)


def parse_iso(text: str) -> float:
    """ISO-8601 text (``Z`` or an offset; no offset means UTC) -> epoch seconds."""
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()
