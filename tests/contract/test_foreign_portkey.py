"""The kit against a Portkey-style gateway it was not built with (tests/contract/foreign/portkey_server.py): every planted
class caught by the check that names it, every saved finding replayed, the faithful server passing across five seeds.
One server serves the module; ``reset(*bugs)`` switches the planted classes between runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver.contract.mutants import serve
from tests.contract.foreign import gateways
from tests.contract.foreign.portkey_server import BUGS, PortkeyGateway

PROVIDER = "portkey"


@pytest.fixture(scope="module")
def served() -> Iterator[gateways.Served]:
    server = PortkeyGateway(gateways.KEY)
    with serve(server.app()) as root:
        yield gateways.Served(PROVIDER, server, root + "/v1")


def test_every_planted_class_has_a_catching_check() -> None:
    assert set(gateways.CAUGHT_BY[PROVIDER]) == set(BUGS)
    assert sum(len(table) for table in gateways.CAUGHT_BY.values()) >= 20


@pytest.mark.parametrize("seed", range(5))
def test_the_faithful_server_passes(served: gateways.Served, seed: int) -> None:
    gateways.faithful(served, seed)


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_each_planted_bug_is_caught_and_its_findings_replay(served: gateways.Served, tmp_path: Path, bug: str) -> None:
    gateways.planted(served, bug, tmp_path)


def test_a_generated_script_exits_1_while_the_bug_is_there(served: gateways.Served, tmp_path: Path) -> None:
    gateways.script_exits_1(served, gateways.SCRIPTED[PROVIDER], tmp_path)


def test_findings_of_generated_cases_are_saved_and_replay(served: gateways.Served, tmp_path: Path) -> None:
    failing = gateways.generated_findings_replay(served, "unknown_batch_empty_200", tmp_path)
    assert ("GET /batches/{batch_id}", "response_schema_conformance") in failing
