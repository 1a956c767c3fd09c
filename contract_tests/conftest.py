"""The contract suite against the fake: shared helpers (the kit itself lives in mockserver/contract/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockserver.contract.profiles import PROFILES
from mockserver.contract.report import Finding, Report
from mockserver.providers.registry import PROVIDERS

HERE = Path(__file__).parent

# every provider the kit has a profile for; one the fake does not mount yet is skipped, not forgotten
ALL_PROVIDERS = sorted(PROFILES)


def served(provider: str) -> None:
    if provider not in PROVIDERS:
        pytest.skip(f"the fake does not mount {provider!r} yet")


def ledger(provider: str) -> list[dict[str, Any]]:
    """Bugs of the fake the kit found and that are not fixed yet (known_findings.json): entries with ``operation``
    ("*": any), ``check``, ``why``, optionally ``contains`` (text of the example or message) and ``sometimes``
    (hit only by some runs: never reported as stale)."""
    data = json.loads((HERE / "known_findings.json").read_text())
    return list(data.get("*", [])) + list(data.get(provider, []))


def _matches(entry: dict[str, Any], operation: str, check: str, finding: Finding) -> bool:
    return (
        entry["operation"] in ("*", operation)
        and entry["check"] == check
        and entry.get("contains", "") in finding.example + finding.message
    )


def unexplained(report: Report, provider: str) -> list[str]:
    """Failures of the run that no ledger entry explains (each as "check on operation: title")."""
    entries = ledger(provider)
    out = []
    for (operation, check), outcome in sorted(report.outcomes.items()):
        for finding in outcome.findings:
            if not any(_matches(e, operation, check, finding) for e in entries):
                out.append(f"{check} on {operation}: {finding.title}")
    return out


def stale(report: Report, provider: str) -> list[str]:
    """Ledger entries (not marked ``sometimes``) this run did not reproduce."""
    out = []
    for entry in ledger(provider):
        if entry.get("sometimes"):
            continue
        hit = any(_matches(entry, op, check, f) for (op, check), o in report.outcomes.items() for f in o.findings)
        if not hit:
            out.append(f"{entry['check']} on {entry['operation']}")
    return out
