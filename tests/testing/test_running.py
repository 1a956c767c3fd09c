"""mockserver.running(): the mock_server fixture's face outside pytest's fixtures."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import openai
import pytest
from openai import OpenAI

import mockserver

REPO = Path(__file__).resolve().parents[2]
LINES = "".join(json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions",
                            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}}) + "\n" for i in range(2))


def test_a_batch_completes_when_the_clock_moves_and_the_journal_shows_the_calls() -> None:
    with mockserver.running() as fake:
        client = OpenAI(base_url=fake.base_url("anyapi"), api_key="k")
        upload = client.files.create(file=("in.jsonl", io.BytesIO(LINES.encode())), purpose="batch")
        batch = client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
        start = fake.clock.now()
        assert client.batches.retrieve(batch.id).status == "validating"  # the clock is frozen by default
        assert fake.clock.advance(60) == start + 60 == fake.clock.now()
        assert client.batches.retrieve(batch.id).status == "completed"
        assert [e.operation for e in fake.requests(provider="anyapi")] == ["createFile", "createBatch", "retrieveBatch", "retrieveBatch"]
        fake.reset()
        assert fake.requests() == []
        with pytest.raises(openai.NotFoundError):
            client.batches.retrieve(batch.id)
        url = fake.url
    with pytest.raises(httpx.TransportError):  # stopped at the end of the block
        httpx.get(url + "/_mock/health", timeout=1)


def test_the_same_face_as_the_mock_server_fixture(mock_server) -> None:  # type: ignore[no-untyped-def]
    with mockserver.running() as fake:
        face = {"base_url", "clock", "reset", "requests", "add_faults", "snapshot", "restore", "engine", "url"}
        assert face <= set(dir(fake)) and face <= set(dir(mock_server))
        assert type(fake) is type(mock_server)
        assert fake.base_url("retell").endswith("/retell") and fake.base_url("anyapi").endswith("/anyapi/v1")


def test_keys_seed_scenario_and_fixture_files() -> None:
    with mockserver.running(api_keys=["sk-only"], seed=3, scenario="fail_validation",
                            fixtures=[REPO / "fixtures" / "seed_examples.yaml"]) as fake:
        assert httpx.get(fake.base_url("anyapi") + "/batches", headers={"Authorization": "Bearer other"}).status_code == 401
        client = OpenAI(base_url=fake.base_url("anyapi"), api_key="sk-only")
        assert client.batches.retrieve("batch_seed_anyapi").id == "batch_seed_anyapi"
        upload = client.files.create(file=("in.jsonl", io.BytesIO(LINES.encode())), purpose="batch")
        batch = client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
        fake.clock.advance(5)
        assert client.batches.retrieve(batch.id).status == "failed"
        fake.add_faults({"provider": "anyapi", "operation": "listBatches", "status": 503, "times": 1})
        assert httpx.get(fake.base_url("anyapi") + "/batches", headers={"Authorization": "Bearer sk-only"}).status_code == 503


def test_real_time_clock_on_request() -> None:
    with mockserver.running(clock_speed=1.0) as fake:
        assert fake.clock.speed == 1.0
