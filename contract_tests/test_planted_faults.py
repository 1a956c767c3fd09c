"""The kit catches every catalogued fault planted in the fake, and passes the unmodified fake.

Each run points the kit at a server on loopback with --base-url semantics (as at a real provider, writes
allowed): it must exit non-zero and name the operation and check the fault breaks.
"""

from __future__ import annotations

import pytest

from contract_tests.conftest import served, unexplained
from mockserver.contract.mutants import CATALOGUE, Mutant, check_mutant
from mockserver.contract.profiles import get_profile

PROVIDER = "anyapi"  # the full catalogue applies to it; see tests/contract for the other providers


def test_the_catalogue_has_at_least_twelve_faults() -> None:
    assert len([m for m in CATALOGUE if m.applies(get_profile(PROVIDER))]) >= 12


def test_the_unmodified_fake_passes() -> None:
    served(PROVIDER)
    report, _ = check_mutant(PROVIDER, None)
    new = unexplained(report, PROVIDER)
    assert not new and not report.errors, f"{new}\n\n{report.summary()}"


@pytest.mark.parametrize("mutant", [m for m in CATALOGUE if m.applies(get_profile(PROVIDER))], ids=lambda m: m.name)
def test_the_kit_catches(mutant: Mutant) -> None:
    served(PROVIDER)
    report, expected = check_mutant(PROVIDER, mutant)
    assert report.exit_code != 0
    caught = expected & report.failing()
    assert caught, f"{mutant.name} ({mutant.description}) was not reported as any of {sorted(expected)}\n\n{report.summary()}"
    # the summary a user reads names the operation and the check
    text = report.summary()
    assert any(operation in text and check in text for operation, check in caught)
