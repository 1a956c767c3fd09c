"""mockserver record: a session through the proxy against a second fake, written down without its secrets, and
replayed through the official openai SDK with identical answers."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI
from starlette.testclient import TestClient

from mockserver.config.baseline import Baseline
from mockserver.core.settings import Settings
from mockserver.server.app import create_app
from mockserver.server.cassette import INLINE_LIMIT, load_cassette
from mockserver.server.live import LiveServer, free_port
from tests.conftest import jsonl
from tests.record.recording import KEY, recording, written

BIG_LINES = 700  # a ~85 KiB input file: stored beside the cassette, not inline


def session(client: OpenAI, advance: Callable[[float], None]) -> list[Any]:
    """Upload (multipart), create, poll, finish, download (streamed file content), list: every answer, as data."""
    small = client.files.create(file=("input.jsonl", io.BytesIO(jsonl(3))), purpose="batch")
    big = client.files.create(file=("big.jsonl", io.BytesIO(jsonl(BIG_LINES))), purpose="batch")
    batch = client.batches.create(input_file_id=small.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"run": "one"})
    polled = client.batches.retrieve(batch.id)
    advance(3600)
    done = client.batches.retrieve(batch.id)
    assert done.output_file_id is not None
    output = client.files.content(done.output_file_id).content
    listed = client.batches.list(limit=5)
    return [small.model_dump(), big.model_dump(), batch.model_dump(), polled.model_dump(), done.model_dump(), output,
            client.files.content(big.id).content, [b.model_dump() for b in listed.data]]


def test_a_recorded_session_replays_through_the_sdk_with_identical_answers(upstream: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    with recording(upstream.base_url("anyapi"), out) as base:
        recorded = session(OpenAI(base_url=base, api_key=KEY, max_retries=0), upstream.engine.clock.advance)
    assert recorded[6] == jsonl(BIG_LINES)  # the upstream's bytes reached the client unchanged
    app = create_app(Settings(response_validation="strict"), replay=str(out / "cassette.jsonl"), replay_strict=True)
    with TestClient(app) as http:
        replayed = session(OpenAI(base_url="http://testserver/anyapi/v1", api_key="any-other-key", max_retries=0, http_client=http),
                           lambda seconds: None)
        seen = http.get("/_mock/replay").json()
        journal = http.get("/_mock/requests", params={"provider": "anyapi"}).json()["data"]
    assert replayed == recorded
    assert seen["exchanges"] == seen["answered"] == len(recorded) == 8 and seen["missed"] == 0
    assert all(entry["source"] and entry["source"].startswith("replay:") for entry in journal) and len(journal) == 8


def test_large_bodies_are_stored_beside_the_cassette_byte_for_byte(upstream: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    with recording(upstream.base_url("anyapi"), out) as base:
        client = OpenAI(base_url=base, api_key=KEY, max_retries=0)
        big = client.files.create(file=("big.jsonl", io.BytesIO(jsonl(BIG_LINES))), purpose="batch")
        client.files.content(big.id)
    lines = [json.loads(line) for line in (out / "cassette.jsonl").read_text().splitlines()]
    download = lines[-1]["response"]["body"]
    assert set(download) == {"file", "bytes", "sha256"} and download["bytes"] >= INLINE_LIMIT
    assert (out / download["file"]).read_bytes() == jsonl(BIG_LINES)
    upload = lines[0]["request"]["body"]
    assert "file" in upload and jsonl(BIG_LINES) in (out / upload["file"]).read_bytes()  # the multipart body as sent
    assert load_cassette(out / "cassette.jsonl")[-1].body == jsonl(BIG_LINES)
    assert len((out / "cassette.jsonl").read_bytes()) < INLINE_LIMIT  # nothing large inline


def test_no_secret_is_written_to_any_file(upstream: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    portkey_key, virtual = "pk-portkey-key-9876543210", "vk-virtual-key-abcdef"
    with recording(upstream.base_url("anyapi"), out) as base:
        client = OpenAI(base_url=base, api_key=KEY, max_retries=0, default_headers={"x-api-key": "xk-" + KEY[::-1]})
        file = client.files.create(file=("input.jsonl", io.BytesIO(jsonl(2))), purpose="batch")
        client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
        httpx.get(base + "/batches", params={"limit": 1}, headers={"Authorization": f"Bearer {KEY}", "x-portkey-api-key": portkey_key,
                                                                    "x-portkey-virtual-key": virtual})
    with recording(upstream.base_url("portkey"), tmp_path / "portkey", provider="portkey") as base:
        OpenAI(base_url=base, api_key="unused", max_retries=0,
               default_headers={"x-portkey-api-key": portkey_key, "x-portkey-virtual-key": virtual}).batches.list()
    files = {**written(out), **written(tmp_path / "portkey")}
    assert {p.name for p in files} >= {"cassette.jsonl", "fixtures.yaml", "drift.md", "drift.json"}
    for path, data in files.items():
        for secret in (KEY, KEY[::-1], portkey_key, virtual):
            assert secret.encode() not in data, f"{secret} written to {path}"
    line = json.loads((out / "cassette.jsonl").read_text().splitlines()[0])
    assert ["authorization", "[REDACTED]"] in [[k.lower(), v] for k, v in line["request"]["headers"]]


def test_the_fixtures_file_serves_the_recorded_objects_and_their_lifecycle_goes_on(upstream: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    with recording(upstream.base_url("anyapi"), out) as base:
        client = OpenAI(base_url=base, api_key=KEY, max_retries=0)
        file = client.files.create(file=("input.jsonl", io.BytesIO(jsonl(4))), purpose="batch")
        running = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"k": "v"})
        finished = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
        upstream.engine.clock.advance(3600)
        finished = client.batches.retrieve(finished.id)
        output = client.files.content(finished.output_file_id or "").content
    app = create_app(Settings(response_validation="strict", clock_speed=0.0, seed=7))  # another seed: nothing generated alike
    Baseline.load([], [str(out / "fixtures.yaml")]).install(app.state.engine, app.state.providers)
    with TestClient(app) as http:
        fake = OpenAI(base_url="http://testserver/anyapi/v1", api_key="k", max_retries=0, http_client=http)
        assert fake.files.content(file.id).content == jsonl(4)
        again = fake.batches.retrieve(finished.id)
        assert (again.status, again.request_counts) == ("completed", finished.request_counts)
        served = fake.files.content(again.output_file_id or "").content
        assert [json.loads(x) for x in served.splitlines()] == [json.loads(x) for x in output.splitlines()]  # the recorded output
        assert fake.batches.retrieve(running.id).status == "validating" and fake.batches.retrieve(running.id).metadata == {"k": "v"}
        app.state.engine.clock.advance(3600)
        assert fake.batches.retrieve(running.id).status == "completed"  # the fake's lifecycle goes on from the recorded state


def test_an_unreachable_upstream_is_a_502_recorded_and_the_proxy_keeps_serving(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    with recording(f"http://127.0.0.1:{free_port()}/anyapi/v1", out) as base:
        client = OpenAI(base_url=base, api_key=KEY, max_retries=0)
        for _ in range(2):
            with pytest.raises(openai.APIStatusError) as refused:
                client.batches.list()
            assert refused.value.status_code == 502 and "did not answer" in refused.value.message
    lines = load_cassette(out / "cassette.jsonl")
    assert [(x.status, bool(x.upstream_error)) for x in lines] == [(502, True), (502, True)]
    assert "ConnectError" in (lines[0].upstream_error or "")
    report = json.loads((out / "drift.json").read_text())
    assert len(report["findings"]) == 2 and "ConnectError" in report["findings"][0]["upstream_error"]


def test_a_5xx_and_a_slow_upstream_are_recorded_as_they_were(upstream: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    faults = [{"provider": "anyapi", "operation": "listBatches", "status": 500, "times": 1},
              {"provider": "anyapi", "operation": "retrieveBatch", "latency": 1.5, "times": 1}]
    httpx.post(upstream.url + "/_mock/faults", json={"faults": faults}).raise_for_status()
    with recording(upstream.base_url("anyapi"), out, timeout=0.3) as base:
        client = OpenAI(base_url=base, api_key=KEY, max_retries=0)
        with pytest.raises(openai.InternalServerError):
            client.batches.list()
        with pytest.raises(openai.APIStatusError) as slow:
            client.batches.retrieve("batch_missing")
        assert slow.value.status_code == 504
        assert client.batches.list().data == []  # served again once the upstream is well
    lines = load_cassette(out / "cassette.jsonl")
    assert [x.status for x in lines] == [500, 504, 200]
    assert lines[0].upstream_error is None and "the upstream answered 500" in lines[0].problems
    assert json.loads(lines[0].body)["error"]  # the upstream's own envelope, as it was
    assert "Timeout" in (lines[1].upstream_error or "")
    assert "the upstream answered 500" in (out / "drift.md").read_text()


def test_the_record_command_refuses_what_it_cannot_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mockserver.cli import main

    assert main(["record", "--provider", "nowhere", "--upstream", "http://127.0.0.1:1/v1", "--out", str(tmp_path)]) == 2
    assert "--provider 'nowhere': expected one of anyapi" in capsys.readouterr().err
    assert main(["record", "--provider", "anyapi", "--upstream", "api.anyapi.ai/v1", "--out", str(tmp_path)]) == 2
    assert "expected an http:// or https:// base URL" in capsys.readouterr().err
    assert main(["record", "--provider", "anyapi", "--upstream", "http://127.0.0.1:1/v1", "--timeout", "0"]) == 2
    assert not any(tmp_path.iterdir())  # nothing written for a command that did not start
