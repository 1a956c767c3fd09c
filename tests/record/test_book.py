"""What a recording adds up to: a drift report from real traffic (answers the vendored spec does not allow), and a
fixtures file the fake loads. The upstream here is an independent small server that answers as it pleases."""

from __future__ import annotations

import io
import json
from pathlib import Path

import yaml
from openai import OpenAI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.config.fixtures import load_fixture_file
from mockserver.record.book import upload_part
from mockserver.server.cassette import load_cassette
from tests.record.recording import KEY, recording, threaded

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
