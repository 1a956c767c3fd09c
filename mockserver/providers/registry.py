"""Every provider the server mounts, in one place."""

from __future__ import annotations

from . import anyapi, phaseo, portkey
from .base import Provider
from .formant import provider as formant
from .retell import provider as retell

PROVIDERS: dict[str, Provider] = {p.name: p for p in (anyapi.PROVIDER, portkey.PROVIDER, phaseo.PROVIDER, retell.PROVIDER, formant.PROVIDER)}
