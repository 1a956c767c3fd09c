"""Every operation of every spec, against the fake (a LiveServer with one accepted key), with every check.

A failure here is a bug of the fake (or of its spec): fix it, or, while it is being fixed, list it in
known_findings.json with what was seen. An entry that no longer reproduces must be removed (strict, like xfail).
"""

from __future__ import annotations

import pytest

from contract_tests.conftest import ALL_PROVIDERS, served, stale, unexplained
from mockserver.contract.mutants import spec_operations
from mockserver.contract.profiles import get_profile
from mockserver.contract.runner import Options, run_contract

# small and deterministic: the whole suite stays within a few seconds per provider
CI_OPTIONS = Options(max_examples=10, seed=0)


@pytest.mark.parametrize("provider", ALL_PROVIDERS)
def test_the_fake_meets_its_contract(provider: str) -> None:
    served(provider)
    report = run_contract(provider, options=CI_OPTIONS)
    new = unexplained(report, provider)
    assert not new and not report.errors, f"new contract failures of the fake: {new}\n\n{report.summary()}"
    gone = stale(report, provider)
    assert not gone, f"known_findings.json lists {gone} for {provider}, which no longer fail: remove them"
    # every operation of the spec had answers checked against it: none was silently skipped
    operations = {f"{verb} {path}" for verb, path, _ in spec_operations(get_profile(provider))}
    checked = {operation for operation, check in report.outcomes if check == "response_schema_conformance"}
    assert operations <= checked, f"never checked: {sorted(operations - checked)}"
