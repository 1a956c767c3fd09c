from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator

import pytest
import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mockserver.contract.meter import BudgetExhausted, Meter, Sanitizer, retry_after_seconds
from mockserver.contract.mutants import serve


def _app() -> Starlette:
    state = {"calls": 0}

    async def ok(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def limited(request: Request) -> JSONResponse:
        state["calls"] += 1
        if state["calls"] == 1:
            return JSONResponse({"error": "slow down"}, status_code=429, headers={"Retry-After": request.query_params.get("wait", "0")})
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/ok", ok), Route("/limited", limited)])


@pytest.fixture
def url() -> Iterator[str]:
    with serve(_app()) as base:
        yield base


def test_the_budget_is_hard(url: str) -> None:
    with Meter(url, budget=3) as meter:
        for _ in range(3):
            assert requests.get(url + "/ok").ok
        with pytest.raises(BudgetExhausted):
            requests.get(url + "/ok")
    assert meter.sent == 3 and meter.exhausted


def test_other_origins_are_not_counted(url: str) -> None:
    with Meter("http://127.0.0.1:1/elsewhere", budget=0) as meter:
        assert requests.get(url + "/ok").ok
    assert meter.sent == 0


def test_the_cleanup_reserve_outlives_the_budget(url: str) -> None:
    stopped = []
    with Meter(url, budget=3) as meter:
        meter.on_exhausted.append(lambda: stopped.append(True))
        assert meter.reserve(1)
        requests.get(url + "/ok")
        requests.get(url + "/ok")
        with pytest.raises(BudgetExhausted):
            requests.get(url + "/ok")
        with meter.cleanup():
            assert requests.get(url + "/ok").ok
        assert not meter.reserve(1)
    assert meter.sent == 3 and stopped == [True]


def test_retry_after_is_honoured_and_counted(url: str) -> None:
    slept: list[float] = []
    with Meter(url, budget=10, sleep=slept.append) as meter:
        response = requests.get(url + "/limited?wait=1")
    assert response.status_code == 200 and slept == [1.0] and meter.sent == 2 and meter.waited == 1.0


def test_a_retry_after_beyond_the_cap_is_not_waited_for(url: str) -> None:
    slept: list[float] = []
    with Meter(url, budget=10, max_wait=5, sleep=slept.append) as meter:
        response = requests.get(url + "/limited?wait=3600")
    assert response.status_code == 429 and slept == [] and meter.sent == 1


def test_retry_after_accepts_seconds_and_dates() -> None:
    assert retry_after_seconds("7") == 7.0
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < (retry_after_seconds(when) or 0) <= 30
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_the_sanitizer_hides_every_secret_everywhere() -> None:
    clean = Sanitizer(["sk-secret-123", "vk-virtual"])
    data = {"headers": {"Authorization": "Bearer sk-secret-123"}, "list": ["x vk-virtual y"], "n": 1}
    assert "sk-secret" not in str(clean(data)) and "vk-virtual" not in str(clean(data)) and clean(data)["n"] == 1
