"""Anthropic in the rest of the house: scenarios, faults, fixtures, the dashboard, the admin listing and a durable
``--state`` on SQLite, each driven through the anthropic SDK where a client would be."""

from __future__ import annotations

from pathlib import Path

import anthropic
import httpx
import pytest
from anthropic import Anthropic
from starlette.testclient import TestClient

from mockserver.config.fixtures import check_fixtures, load_fixture_file, seeder
from mockserver.core.settings import Settings
from mockserver.core.timefmt import iso, parse_iso
from mockserver.server.app import create_app
from mockserver.server.live import LiveServer
from tests.providers.anthropic.test_sdk import PROCESSING, requests, sdk


def test_a_user_scenario_sets_the_outcome_mix_and_durations(frozen_server: LiveServer) -> None:
    admin = frozen_server.url + "/_mock"
    answer = httpx.post(admin + "/scenarios", json={"scenarios": {"half_bad": {"outcomes": {"succeeded": 1, "errored": 1}, "durations": {"in_progress": 100}}}})
    assert answer.status_code == 200, answer.text
    client = sdk(frozen_server)
    batch = client.messages.batches.create(requests=requests(40), extra_headers={"X-Mock-Scenario": "half_bad"})
    frozen_server.engine.clock.advance(99)
    assert client.messages.batches.retrieve(batch.id).processing_status == "in_progress"
    frozen_server.engine.clock.advance(1)
    counts = client.messages.batches.retrieve(batch.id).request_counts
    assert counts.succeeded + counts.errored == 40 and 8 < counts.errored < 32
    errored = [r for r in client.messages.batches.results(batch.id) if r.result.type == "errored"]
    assert len(errored) == counts.errored and errored[0].result.error.error.type == "api_error"
    with pytest.raises(anthropic.BadRequestError, match="nope"):
        client.messages.batches.create(requests=requests(1), extra_headers={"X-Mock-Scenario": "nope"})


def test_a_fault_is_answered_in_anthropics_envelope(frozen_server: LiveServer) -> None:
    answer = httpx.post(frozen_server.url + "/_mock/faults", json={"provider": "anthropic", "operation": "listMessageBatches", "status": 429, "times": 1})
    assert answer.status_code == 200, answer.text
    client = sdk(frozen_server)
    with pytest.raises(anthropic.RateLimitError) as limited:
        client.messages.batches.list()
    assert limited.value.body["type"] == "error" and limited.value.body["error"]["type"] == "rate_limit_error"
    assert limited.value.response.headers["retry-after"]
    assert client.messages.batches.list().data == []  # the fault fired once


def test_fixtures_preload_batches_that_never_move(tmp_path: Path, frozen_server: LiveServer) -> None:
    path = tmp_path / "fixtures.yaml"
    created, ended = iso(frozen_server.engine.now() - 7200), iso(frozen_server.engine.now() - 3600)
    path.write_text(
        "fixtures:\n"
        "  - {provider: anthropic, kind: message_batch, api_key: sk-ant-fix, data: {id: msgbatch_done, processing_status: ended,"
        f" created_at: '{created}', ended_at: '{ended}', request_counts: {{succeeded: 2, errored: 1}}}}}}\n"
        "  - {provider: anthropic, kind: message_batch, api_key: sk-ant-fix, data: {id: msgbatch_running, processing_status: in_progress,"
        " requests: [{custom_id: a, params: {model: claude-haiku-4-5, max_tokens: 5, messages: [{role: user, content: hi}]}}]}}\n"
    )
    frozen_server.engine.seeders.add(seeder(check_fixtures(load_fixture_file(path), frozen_server.engine)))
    client = sdk(frozen_server, "sk-ant-fix")
    done = client.messages.batches.retrieve("msgbatch_done")
    assert done.processing_status == "ended" and done.request_counts.succeeded == 2 and done.request_counts.errored == 1
    assert done.ended_at is not None and done.ended_at.timestamp() == parse_iso(ended) and done.archived_at is None
    assert [r.result.type for r in client.messages.batches.results("msgbatch_done")] == ["succeeded", "succeeded", "errored"]
    frozen_server.engine.clock.advance(3 * PROCESSING)
    running = client.messages.batches.retrieve("msgbatch_running")
    assert running.processing_status == "in_progress" and running.request_counts.processing == 1


def test_the_dashboard_and_the_admin_listing_show_message_batches(frozen_server: LiveServer) -> None:
    client = sdk(frozen_server, "sk-ant-dashboard-0001")
    batch = client.messages.batches.create(requests=requests(2))
    rows = [row for row in httpx.get(frozen_server.url + "/_mock/ui/state").json()["batches"] if row["provider"] == "anthropic"]
    assert [(r["id"], r["status"], r["kind"]) for r in rows] == [(batch.id, "in_progress", "message_batch")]
    assert [m["state"] for m in rows[0]["planned"]] == ["ended"] and rows[0]["counts"]["processing"] == 2
    frozen_server.engine.clock.advance(PROCESSING)
    detail = httpx.get(frozen_server.url + "/_mock/ui/batch", params={"provider": "anthropic", "ns": rows[0]["ns"], "id": batch.id}).json()
    assert detail["status"] == "ended" and [r["result"] for r in detail["requests"]] == ["succeeded", "succeeded"]
    listed = httpx.get(frozen_server.url + "/_mock/batches", params={"provider": "anthropic"}).json()["data"]
    assert [(b["id"], b["status"]) for b in listed] == [(batch.id, "ended")]


def test_a_durable_state_on_sqlite_keeps_batches_across_a_restart(tmp_path: Path) -> None:
    settings = Settings(state=str(tmp_path / "state.db"), clock_speed=0, response_validation="strict")
    headers = {"x-api-key": "sk-ant-durable", "anthropic-version": "2023-06-01"}
    with TestClient(create_app(settings)) as first:
        created = first.post("/anthropic/v1/messages/batches", headers=headers, json={"requests": requests(3)})
        assert created.status_code == 200, created.text
        canceled = first.post("/anthropic/v1/messages/batches", headers=headers, json={"requests": requests(2)}).json()["id"]
        assert first.post(f"/anthropic/v1/messages/batches/{canceled}/cancel", headers=headers).json()["processing_status"] == "canceling"
    with TestClient(create_app(settings)) as second:
        assert second.post("/_mock/clock/advance", json={"seconds": PROCESSING}).status_code == 200
        batch = second.get(f"/anthropic/v1/messages/batches/{created.json()['id']}", headers=headers).json()
        assert batch["processing_status"] == "ended" and batch["request_counts"]["succeeded"] == 3
        lines = second.get(f"/anthropic/v1/messages/batches/{batch['id']}/results", headers=headers).text.splitlines()
        assert len(lines) == 3 and '"custom_id":"req-0"' in lines[0]
        assert second.get(f"/anthropic/v1/messages/batches/{canceled}", headers=headers).json()["request_counts"]["canceled"] == 2


def test_the_official_sdk_reads_a_fake_started_in_process(tmp_path: Path) -> None:
    """The in-process app (no socket) speaks the same API: the SDK over httpx's ASGI-less TestClient transport."""
    with TestClient(create_app(Settings(clock_speed=0, response_validation="strict"))) as http:
        client = Anthropic(base_url=str(http.base_url) + "/anthropic", api_key="k", http_client=http, max_retries=0, _strict_response_validation=True)  # type: ignore[arg-type]
        batch = client.messages.batches.create(requests=requests(1))
        assert client.messages.batches.retrieve(batch.id).processing_status == "in_progress"
