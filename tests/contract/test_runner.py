from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.contract.mutants import CATALOGUE, check_mutant, serve
from mockserver.contract.runner import ContractSetupError, Options, run_contract
from mockserver.core.settings import Settings
from mockserver.server.app import create_app
from mockserver.server.live import LiveServer
from tests.contract.conftest import KEY

QUICK = Options(max_examples=3, phases=("coverage", "fuzzing"), poll_interval=0.05, poll_timeout=3)


class Counting:
    """Records the method of every HTTP request that reaches the server, whatever the app makes of it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.methods: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.methods.append(scope["method"])
        await self.app(scope, receive, send)


@pytest.fixture
def counted() -> Iterator[tuple[Counting, str]]:
    app = Counting(create_app(Settings(api_keys={"anyapi": (KEY,), "portkey": (KEY,)}, clock_speed=20.0)))
    with serve(app) as url:
        yield app, url


def test_read_only_sends_no_write_and_counts_every_request(counted: tuple[Counting, str]) -> None:
    app, url = counted
    report = run_contract("portkey", base_url=url + "/portkey/v1", api_key=KEY, environ={}, options=QUICK)
    assert report.mode == "read-only" and app.methods and set(app.methods) == {"GET"}
    # every request went through the meter, schemathesis' own probes included; the server's HTTP layer drops
    # the one capability probe with an invalid header before any app sees it, so the meter counts one more
    assert len(app.methods) <= report.requests_sent <= len(app.methods) + 1
    assert report.ok, report.summary()


def test_the_budget_bounds_every_phase(counted: tuple[Counting, str]) -> None:
    app, url = counted
    report = run_contract("anyapi", base_url=url + "/anyapi/v1", api_key=KEY, allow_writes=True, budget=25, environ={}, options=QUICK)
    assert len(app.methods) <= report.requests_sent <= 25
    assert report.stopped_by_budget and "budget" in report.summary()
    # what the flows created was still cleaned up, from the reserve
    assert report.cleanup and all(done for _, done, _ in report.cleanup)


def test_the_key_comes_from_the_environment_and_never_shows(live: LiveServer) -> None:
    report = run_contract("anyapi", base_url=live.base_url("anyapi"), environ={"ANYAPI_API_KEY": KEY}, options=QUICK)
    assert report.requests_sent and KEY not in report.summary(verbose=True) and KEY not in json.dumps(report.as_dict())
    with pytest.raises(ContractSetupError, match="ANYAPI_API_KEY"):
        run_contract("anyapi", base_url=live.base_url("anyapi"), environ={})


def test_a_wrong_key_fails_the_run(live: LiveServer) -> None:
    report = run_contract("anyapi", base_url=live.base_url("anyapi"), api_key="sk-wrong-key", environ={}, options=QUICK)
    assert not report.ok


def test_against_a_fake_it_starts_itself() -> None:
    report = run_contract("formant", options=Options(max_examples=2, phases=("fuzzing",)))
    assert report.mode == "fake" and report.ok, report.summary()
    assert {"created_readable", "pagination_consistent"} <= {check for _, check in report.outcomes}


def test_clean_up_happens_when_a_check_fails() -> None:
    mutant = next(m for m in CATALOGUE if m.name == "decreasing_counter")
    report, expected = check_mutant("anyapi", mutant, Options(phases=(), poll_interval=0.05, poll_timeout=3))
    assert expected & report.failing()
    assert [what for what, done, _ in report.cleanup if done] and all(done for _, done, _ in report.cleanup)
