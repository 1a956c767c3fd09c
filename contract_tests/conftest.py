"""The contract suite against the fake: shared helpers (the kit itself lives in mockserver/contract/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockserver.contract.profiles import PROFILES
from mockserver.providers.registry import PROVIDERS

HERE = Path(__file__).parent

# every provider the kit has a profile for; one the fake does not mount yet is skipped, not forgotten
ALL_PROVIDERS = sorted(PROFILES)


def served(provider: str) -> None:
    if provider not in PROVIDERS:
        pytest.skip(f"the fake does not mount {provider!r} yet")


def known_findings(provider: str) -> dict[tuple[str, str], str]:
    """Bugs of the fake the kit found and that are not fixed yet: (operation, check) -> why."""
    data = json.loads((HERE / "known_findings.json").read_text())
    return {(e["operation"], e["check"]): e["why"] for e in data.get(provider, [])}
