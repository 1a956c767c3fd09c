"""The drift report between the fake and a second copy of it is empty (its normalisation hides nothing real)."""

from __future__ import annotations

import pytest

from contract_tests.conftest import ALL_PROVIDERS, served
from mockserver.contract.drift import run_drift
from mockserver.contract.mutants import mutant_server


@pytest.mark.parametrize("provider", ALL_PROVIDERS)
def test_the_fake_does_not_drift_from_itself(provider: str) -> None:
    served(provider)
    # both clocks frozen: what a status reads then does not depend on how busy the machine is
    with mutant_server(provider, "sk-drift-target", None, clock_speed=0.0) as url:
        drift = run_drift(provider, url, "sk-drift-target", allow_writes=True, environ={}, fake_clock_speed=0.0)
    assert drift.steps
    assert not drift.differences, drift.markdown()
