"""What a recording adds up to: a drift report from real traffic (answers the vendored spec does not allow), and a
fixtures file the fake loads. The upstream here is an independent small server that answers as it pleases."""

from __future__ import annotations

import gzip
import io
import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import anyio.to_thread
import httpx
import pytest
import yaml
from openai import OpenAI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from mockserver.config.baseline import Baseline
from mockserver.config.fixtures import load_fixture_file
from mockserver.core.settings import Settings
from mockserver.record.book import upload_part
from mockserver.server.app import create_app
from mockserver.server.cassette import load_cassette
from mockserver.server.live import LiveServer
from tests.conftest import jsonl
from tests.record.recording import KEY, recording, threaded, written

WRONG_BATCH = {"id": "batch_wrong", "object": "batch", "status": "thinking", "created_at": "yesterday"}


async def wrong_batch(request: Request) -> Response:
    return JSONResponse(WRONG_BATCH)


async def a_right_file(request: Request) -> Response:
    return JSONResponse({"id": "file-up", "object": "file", "bytes": 10, "created_at": 1700000000, "filename": "x.jsonl", "purpose": "batch"})


UPSTREAM = Starlette(routes=[Route("/batches/{batch_id}", wrong_batch), Route("/files", a_right_file, methods=["POST"])])


def test_answers_the_spec_does_not_allow_are_reported_as_drift(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    with threaded(UPSTREAM) as upstream, recording(upstream, out) as base:
        client = OpenAI(base_url=base, api_key=KEY, max_retries=0)
        client.files.create(file=("x.jsonl", io.BytesIO(b"{}\n")), purpose="batch")
        raw = client.batches.with_raw_response.retrieve("batch_wrong")
        assert json.loads(raw.content) == WRONG_BATCH  # the client gets what the upstream sent, drift or not
    report = json.loads((out / "drift.json").read_text())
    assert report["exchanges"] == 2 and not report["ok"]
    [finding] = report["findings"]
    assert (finding["operation"], finding["status"], finding["seq"]) == ("retrieveBatch", 200, 2)
    problems = " ".join(finding["problems"])
    assert "thinking" in problems and "created_at" in problems
    assert "batch_wrong" in (out / "drift.md").read_text()
    assert load_cassette(out / "cassette.jsonl")[1].problems == finding["problems"]


def test_the_fixtures_file_is_one_the_fake_loads_and_refused_objects_are_named(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    with threaded(UPSTREAM) as upstream, recording(upstream, out) as base:
        client = OpenAI(base_url=base, api_key=KEY, max_retries=0)
        client.files.create(file=("x.jsonl", io.BytesIO(b'{"custom_id": "a"}\n')), purpose="batch")
        client.batches.with_raw_response.retrieve("batch_wrong")
    fixtures = load_fixture_file(out / "fixtures.yaml")
    assert [(f.kind, f.data["id"]) for f in fixtures] == [("file", "file-up")]
    assert fixtures[0].data["content"] == '{"custom_id": "a"}\n'  # from the multipart upload
    report = json.loads((out / "drift.json").read_text())
    assert any("batch_wrong" in item and "thinking" in item for item in report["fixtures"]["left_out"])
    assert yaml.safe_load((out / "fixtures.yaml").read_text())["fixtures"][0]["provider"] == "anyapi"


def test_upload_part_takes_the_file_part_of_a_multipart_body() -> None:
    body = (b'--XyZ\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
            b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.jsonl"\r\nContent-Type: application/octet-stream\r\n\r\n'
            b'line one\r\nline two\n\r\n--XyZ--\r\n')
    assert upload_part(body, "multipart/form-data; boundary=XyZ") == b"line one\r\nline two\n"
    assert upload_part(body, "application/json") is None


STREAM_GATE = threading.Event()
CHUNKS = (bytes(range(256)) * 3, b"\xff\xfe not utf-8 \x00" * 10)


async def streamed_content(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        yield CHUNKS[0]
        # the second chunk waits until the client has read the first: a proxy that buffered would never let it
        released = await anyio.to_thread.run_sync(STREAM_GATE.wait, 5.0)
        yield CHUNKS[1] if released else b"the proxy held the first chunk back"

    return StreamingResponse(chunks(), media_type="application/octet-stream")


def test_a_streamed_binary_body_reaches_the_client_as_it_comes_and_replays_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    STREAM_GATE.clear()
    app = Starlette(routes=[Route("/files/{file_id}/content", streamed_content)])
    with threaded(app) as upstream, recording(upstream, out) as base:
        with httpx.stream("GET", base + "/files/file-bin/content", headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as answer:
            pieces = answer.iter_raw()
            first = next(pieces)
            STREAM_GATE.set()
            received = first + b"".join(pieces)
    assert received == b"".join(CHUNKS)
    [line] = [json.loads(x) for x in (out / "cassette.jsonl").read_text().splitlines()]
    assert "base64" in line["response"]["body"]  # not text: kept as bytes
    with TestClient(create_app(Settings(), replay=str(out / "cassette.jsonl"), replay_strict=True)) as http:
        replayed = http.get("/anyapi/v1/files/file-bin/content", headers={"Authorization": "Bearer other"})
    assert replayed.content == b"".join(CHUNKS) and replayed.headers["content-type"] == "application/octet-stream"


def test_a_secret_body_field_is_redacted_and_the_request_still_replays(upstream: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    webhook_secret = "whsec_do-not-write-me-42"
    with recording(upstream.base_url("phaseo"), out, provider="phaseo") as base:
        client = OpenAI(base_url=base, api_key=KEY, max_retries=0)
        file = client.files.create(file=("in.jsonl", io.BytesIO(jsonl(2))), purpose="batch")
        body = {"input_file_id": file.id, "endpoint": "/v1/chat/completions", "completion_window": "24h",
                "webhook": {"url": "http://127.0.0.1:9/hook", "secret": webhook_secret}}
        created = httpx.post(base + "/batches", json=body, headers={"Authorization": f"Bearer {KEY}"})
        assert created.status_code == 200, created.text
    for path, data in written(out).items():
        assert webhook_secret.encode() not in data and KEY.encode() not in data, path
    with TestClient(create_app(Settings(), replay=str(out / "cassette.jsonl"), replay_strict=True)) as http:
        again = http.post("/phaseo/v1/batches", json=body, headers={"Authorization": "Bearer other"})
    assert again.status_code == 200 and again.json() == created.json() and again.headers["x-mock-replay"] == "2"


def test_a_formant_recording_gives_batch_call_fixtures_with_their_recorded_metrics(upstream: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    csv = b"customer_phone,first_name\n+15550001111,Ada\n+15550002222,Bob\n"
    with recording(upstream.base_url("formant"), out, provider="formant") as base, \
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {KEY}"}) as http:
        created = http.post("/v1/batch-call", data={"agent_id": "7", "name": "recorded"}, files={"file": ("r.csv", csv, "text/csv")})
        assert created.status_code == 200, created.text
        batch_id = created.json()["data"]["id"]
        upstream.engine.clock.advance(3600)
        batch = http.get(f"/v1/batch-calls/{batch_id}").json()["data"]
        metrics = http.get(f"/v1/batch-calls/{batch_id}/metrics").json()["data"]
    app = create_app(Settings(response_validation="strict", clock_speed=0.0, seed=3))
    Baseline.load([], [str(out / "fixtures.yaml")]).install(app.state.engine, app.state.providers)
    with TestClient(app, headers={"Authorization": "Bearer k"}) as fake:
        again = fake.get(f"/formant/v1/batch-calls/{batch_id}").json()["data"]
        assert {k: again[k] for k in ("id", "name", "agent_id", "status", "total_recipients", "created_at")} == \
            {k: batch[k] for k in ("id", "name", "agent_id", "status", "total_recipients", "created_at")}
        assert fake.get(f"/formant/v1/batch-calls/{batch_id}/metrics").json()["data"] == metrics


def test_a_retell_recording_gives_definitions_batch_tests_and_batch_calls_the_fake_loads(upstream: LiveServer, tmp_path: Path) -> None:
    from retell import Retell

    out = tmp_path / "rec"
    engine = {"type": "retell-llm", "llm_id": "llm_recorded", "version": 1}
    with recording(upstream.base_url("retell"), out, provider="retell") as base:
        client = Retell(api_key=KEY, base_url=base, max_retries=0)
        definition = client.tests.create_test_case_definition(name="Reschedule", response_engine=engine, user_prompt="Move it.", metrics=["Confirms"])
        batch = client.tests.create_batch_test(response_engine=engine, test_case_definition_ids=[definition.test_case_definition_id])
        upstream.engine.clock.advance(3600)
        batch = client.tests.get_batch_test(batch.test_case_batch_job_id)
        call = client.batch_call.create_batch_call(from_number="+14157774444", tasks=[{"to_number": "+12137770001"}], name="recorded")
    app = create_app(Settings(response_validation="strict", clock_speed=0.0, seed=5))
    Baseline.load([], [str(out / "fixtures.yaml")]).install(app.state.engine, app.state.providers)
    with threaded(app) as url:
        fake = Retell(api_key="k", base_url=url + "/retell", max_retries=0)
        assert fake.tests.get_test_case_definition(definition.test_case_definition_id).model_dump() == definition.model_dump()
        again = fake.tests.get_batch_test(batch.test_case_batch_job_id)
        assert (again.status, again.pass_count, again.fail_count, again.error_count, again.total_count) == \
            (batch.status, batch.pass_count, batch.fail_count, batch.error_count, batch.total_count) and batch.status == "complete"
        app.state.engine.clock.advance(8 * 86_400)  # its calls are dialled on the fake's schedule
        calls = fake.call.list(filter_criteria={"batch_call_id": {"type": "string", "op": "eq", "value": call.batch_call_id}})
        assert [c.to_number for c in calls.items] == ["+12137770001"]


RIGHT_BATCH = {"id": "batch_gz", "object": "batch", "endpoint": "/v1/chat/completions", "input_file_id": "file-gz",
               "completion_window": "24h", "status": "validating", "created_at": 1700000000,
               "request_counts": {"total": 0, "completed": 0, "failed": 0}}


async def gzipped_batch(request: Request) -> Response:
    body = gzip.compress(json.dumps(RIGHT_BATCH).encode())
    return Response(body, media_type="application/json", headers={"Content-Encoding": "gzip"})


def test_an_upstream_that_compresses_anyway_is_recorded_as_sent_and_checked_uncompressed(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    app = Starlette(routes=[Route("/batches/{batch_id}", gzipped_batch)])
    with threaded(app) as upstream, recording(upstream, out) as base:
        batch = OpenAI(base_url=base, api_key=KEY, max_retries=0).batches.retrieve("batch_gz")
    assert batch.id == "batch_gz"
    [line] = load_cassette(out / "cassette.jsonl")
    assert gzip.decompress(line.body) == json.dumps(RIGHT_BATCH).encode() and line.problems == []
    assert [(kind, data["id"], data["status"]) for kind, data in
            [(f.kind, f.data) for f in load_fixture_file(out / "fixtures.yaml")]] == [("batch", "batch_gz", "validating")]
    with TestClient(create_app(Settings(), replay=str(out / "cassette.jsonl"), replay_strict=True)) as http:
        replayed = OpenAI(base_url="http://testserver/anyapi/v1", api_key="k", max_retries=0, http_client=http).batches.retrieve("batch_gz")
    assert replayed == batch


async def breaks_off(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"object": "list", "data": ['
        raise RuntimeError("the upstream fell over mid-answer")

    return StreamingResponse(chunks(), media_type="application/json")


def test_an_answer_that_breaks_off_is_recorded_cut_short_and_the_client_sees_it_cut(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    app = Starlette(routes=[Route("/batches", breaks_off)])
    with threaded(app) as upstream, recording(upstream, out) as base:
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(base + "/batches", headers={"Authorization": f"Bearer {KEY}"})
        assert httpx.get(base.rsplit("/anyapi", 1)[0] + "/_record").json()["exchanges"] == 1  # and the proxy serves on
    [line] = load_cassette(out / "cassette.jsonl")
    assert (line.status, line.body) == (200, b'{"object": "list", "data": [')
    assert "broke off after 28 bytes" in (line.upstream_error or "")


def test_a_portkey_batch_output_read_through_its_output_endpoint_becomes_the_fixtures_output(upstream: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    headers = {"x-portkey-api-key": "pk-" + KEY, "x-portkey-provider": "openai"}
    with recording(upstream.base_url("portkey"), out, provider="portkey") as base:
        client = OpenAI(base_url=base, api_key="unused", max_retries=0, default_headers=headers)
        file = client.files.create(file=("in.jsonl", io.BytesIO(jsonl(3))), purpose="batch")
        batch = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
        upstream.engine.clock.advance(3600)
        assert client.batches.retrieve(batch.id).status == "completed"
        output = httpx.get(f"{base}/batches/{batch.id}/output", headers=headers)
        assert output.status_code == 200, output.text
    app = create_app(Settings(response_validation="strict", clock_speed=0.0, seed=9))
    Baseline.load([], [str(out / "fixtures.yaml")]).install(app.state.engine, app.state.providers)
    with TestClient(app) as http:
        again = http.get(f"/portkey/v1/batches/{batch.id}/output", headers=headers)
    assert [json.loads(x) for x in again.content.splitlines()] == [json.loads(x) for x in output.content.splitlines()]
