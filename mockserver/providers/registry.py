"""Every provider the server mounts, in one place."""

from __future__ import annotations

from . import anthropic, anyapi, formant, openai, phaseo, portkey, retell
from .base import Provider

PROVIDERS: dict[str, Provider] = {p.name: p for p in (
        anyapi.PROVIDER, portkey.PROVIDER, phaseo.PROVIDER, retell.PROVIDER, formant.PROVIDER, openai.PROVIDER, anthropic.PROVIDER,
    )}
