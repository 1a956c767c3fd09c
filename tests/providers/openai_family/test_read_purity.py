"""Reads are pure: under one seed, what a client sees does not depend on how many reads came in between.

A read may bring a lifecycle up to date, but never draws an id and never changes what later requests see:
result file ids are derived from the seed and the batch id at creation, and a finished batch's result files
are listed (and built) the same whether or not anybody read the batch first.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mockserver.core.engine import Engine
from mockserver.core.settings import Durations, Settings
from mockserver.providers.base import dumps
from mockserver.providers.openai_family.inputs import InputLine
from mockserver.providers.openai_family.models import OpenAIBatchBackend
from mockserver.providers.openai_family.results import line_usage, success_body, usage_of
from mockserver.server.app import create_app
from tests.conftest import jsonl

AUTH = {
    "anyapi": {"Authorization": "Bearer k"},
    "phaseo": {"Authorization": "Bearer k"},
    "portkey": {"x-portkey-api-key": "k", "x-portkey-virtual-key": "vk"},
}
PREFIX = {"anyapi": "/anyapi/v1", "portkey": "/portkey/v1", "phaseo": "/phaseo/v1"}
# Phaseo's batch object carries the request id of the call that created it: request ids count requests
PER_REQUEST_FIELDS = {"phaseo": {"request_id"}}

# a client's script: ("write", what) steps whose answers are compared; reads are inserted between them
SCRIPT = ("upload", "create", "create_failing", "advance", "upload", "create", "cancel", "advance", "list_files", "upload", "list_batches")
READS = ("get_batch", "list_batches", "list_files", "get_file", "download")


def _strip(provider: str, body: Any) -> Any:
    if isinstance(body, dict):
        return {k: _strip(provider, v) for k, v in body.items() if k not in PER_REQUEST_FIELDS.get(provider, set())}
    if isinstance(body, list):
        return [_strip(provider, v) for v in body]
    return body


def run(provider: str, reads: list[list[str]], seed: int) -> list[Any]:
    """The answers to SCRIPT's steps, with ``reads[i]`` done before step i; reads' own answers are dropped."""
    settings = Settings(seed=seed, clock_start=1_700_000_000.0, clock_speed=0, line_failure_rate=0.3, response_validation="strict")
    app = create_app(settings)
    engine: Engine = app.state.engine
    prefix, headers = PREFIX[provider], AUTH[provider]
    seen: list[Any] = []
    files: list[str] = []
    batches: list[str] = []
    with TestClient(app) as client:

        def read(kind: str) -> None:
            if kind == "get_batch" and batches:
                client.get(f"{prefix}/batches/{batches[-1]}", headers=headers)
            elif kind == "list_batches":
                client.get(f"{prefix}/batches", headers=headers)
            elif kind == "list_files":
                client.get(f"{prefix}/files", headers=headers)
            elif kind in ("get_file", "download") and files:
                suffix = "/content" if kind == "download" else ""
                client.get(f"{prefix}/files/{files[-1]}{suffix}", headers=headers)

        for step, before in zip(SCRIPT, reads):
            for kind in before:
                read(kind)
            if step == "upload":
                answer = client.post(f"{prefix}/files", headers=headers, data={"purpose": "batch"}, files={"file": ("in.jsonl", jsonl(5))})
                files.append(answer.json()["id"])
            elif step in ("create", "create_failing"):
                body = {"input_file_id": files[-1], "endpoint": "/v1/chat/completions", "completion_window": "24h"}
                answer = client.post(f"{prefix}/batches", headers=headers, json=body)
                batches.append(answer.json()["id"])
            elif step == "advance":
                engine.clock.advance(3.5)  # validating 1 s + in_progress 2 s: the first batch is finalizing or done
                answer = client.get(f"{prefix}/batches/{batches[0]}", headers=headers)
                for key in ("output_file_id", "error_file_id"):
                    if answer.json().get(key):
                        files.append(answer.json()[key])
            elif step == "cancel":
                answer = client.post(f"{prefix}/batches/{batches[-1]}/cancel", headers=headers)
            elif step == "list_files":
                answer = client.get(f"{prefix}/files", headers=headers)
            else:
                answer = client.get(f"{prefix}/batches", headers=headers)
            seen.append((step, answer.status_code, _strip(provider, answer.json())))
        engine.clock.advance(100)
        for file_id in files:  # every file's content at the end, output and error files included
            seen.append(("content", file_id, client.get(f"{prefix}/files/{file_id}/content", headers=headers).content))
        seen.append(("files", _strip(provider, client.get(f"{prefix}/files", headers=headers).json())))
    return seen


@pytest.mark.parametrize("provider", ["anyapi", "portkey", "phaseo"])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(reads=st.lists(st.lists(st.sampled_from(READS), max_size=3), min_size=len(SCRIPT), max_size=len(SCRIPT)), seed=st.integers(0, 3))
def test_ids_and_bodies_do_not_depend_on_the_reads_in_between(provider: str, reads: list[list[str]], seed: int) -> None:
    assert run(provider, reads, seed) == run(provider, [[] for _ in SCRIPT], seed)


def test_files_list_shows_a_finished_batch_output_before_anyone_read_the_batch() -> None:
    app = create_app(Settings(clock_speed=0, response_validation="strict"))
    with TestClient(app) as client:
        headers, prefix = AUTH["portkey"], PREFIX["portkey"]  # AnyAPI has no file listing
        file_id = client.post(f"{prefix}/files", headers=headers, data={"purpose": "batch"}, files={"file": ("in.jsonl", jsonl(3))}).json()["id"]
        body = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        batch_id = client.post(f"{prefix}/batches", headers=headers, json=body).json()["id"]
        app.state.engine.clock.advance(60)
        listed = client.get(f"{prefix}/files", headers=headers).json()["data"]  # the batch was never read since it finished
        outputs = [f for f in listed if f["purpose"] == "batch_output"]
        assert len(outputs) == 1 and outputs[0]["filename"] == f"{batch_id}_output.jsonl" and outputs[0]["bytes"] > 0
        batch = client.get(f"{prefix}/batches/{batch_id}", headers=headers).json()
        assert batch["status"] == "completed" and batch["output_file_id"] == outputs[0]["id"]
        content = client.get(f"{prefix}/files/{outputs[0]['id']}/content", headers=headers).content
        assert [json.loads(line)["custom_id"] for line in content.decode().splitlines()] == ["req-0", "req-1", "req-2"]
        assert len(content) == outputs[0]["bytes"]


def test_reading_a_batch_draws_no_id() -> None:
    """The next upload's id is the same whether or not a finished batch was read (and its files listed) first."""
    def next_upload_id(read_first: bool) -> str:
        engine = Engine(Settings(clock_speed=0), {"x": lambda e: OpenAIBatchBackend(e)})
        backend = engine.backend("x", "k")
        batch = backend.create_batch(backend.create_file("in.jsonl", "batch", jsonl(2)).id, "/v1/chat/completions", "24h")
        engine.clock.advance(60)
        if read_first:
            assert backend.retrieve_batch(batch.id).output_file_id is not None
            backend.list_files()
        return backend.create_file("next.jsonl", "batch", jsonl(1)).id

    assert next_upload_id(True) == next_upload_id(False)


@pytest.mark.parametrize("endpoint", ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/moderations",
                                      "/v1/images/generations", "/v1/images/edits", "/v1/videos"])
@given(text=st.text(max_size=120), listed=st.booleans())
def test_usage_counted_without_bodies_equals_the_bodies_usage(endpoint: str, text: str, listed: bool) -> None:
    key = "0123456789abcdef" * 4
    bodies = {
        "/v1/chat/completions": {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": text}] if listed else text}]},
        "/v1/completions": {"model": "m", "prompt": [text, text] if listed else text},
        "/v1/embeddings": {"model": "m", "input": [text, "x"] if listed else text},
        "/v1/responses": {"model": "m", "input": text},
        "/v1/moderations": {"model": "m", "input": [text, "x"] if listed else text},
        "/v1/images/generations": {"model": "dall-e-3" if listed else "gpt-image-1", "prompt": text, "n": 2},
        "/v1/images/edits": {"model": "gpt-image-1", "prompt": text, "images": [{"image_url": "u"}] * (2 if listed else 1), "quality": "high"},
        "/v1/videos": {"model": "sora-2", "prompt": text},
    }
    line = InputLine("c", bodies[endpoint])
    assert line_usage(endpoint, line) == usage_of(success_body(endpoint, line, key, 0, 4))


def test_pages_walk_every_batch_newest_first_and_a_status_filter_keeps_the_order() -> None:
    engine = Engine(Settings(clock_speed=0, durations=Durations(validating=1, in_progress=1, finalizing=1)), {"x": lambda e: OpenAIBatchBackend(e)})
    backend = engine.backend("x", "k")
    file_id = backend.create_file("in.jsonl", "batch", jsonl(1)).id
    created = []
    for i in range(23):
        created.append(backend.create_batch(file_id, "/v1/chat/completions", "24h").id)
        if i % 5 == 0:
            engine.clock.advance(2)  # the older ones move on
    walked, after, has_more = [], None, True
    while has_more:
        page, has_more = backend.list_batches(after=after, limit=4)
        walked += [b.id for b in page]
        after = page[-1].id if page else None
    assert walked == created[::-1]
    states = {b.id: b.state for b in backend.all_batches()}
    page, more = backend.list_batches(limit=100, statuses={"in_progress"})
    assert [b.id for b in page] == [i for i in created[::-1] if states[i] == "in_progress"] and not more
    assert backend.list_batches(after="batch_nope", limit=4) == ([], False)


def test_responses_are_serialised_once_and_still_refuse_nan_and_infinity() -> None:
    assert dumps({"a": [1, None, "é"]}) == '{"a":[1,null,"é"]}'.encode()
    assert dumps({"big": 2**70}) == b'{"big":1180591620717411303424}'  # beyond orjson: the standard library
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError):
            dumps({"nested": [{"x": bad}], "y": None})


def _breaking_app(mode: str, body: dict[str, Any]) -> Any:
    """AnyAPI whose retrieveBatch answers ``body``: not what its spec allows."""
    import dataclasses

    from mockserver.providers.base import json_response
    from mockserver.providers.registry import PROVIDERS

    async def broken(call: Any) -> Any:
        return json_response(body)

    anyapi = PROVIDERS["anyapi"]
    provider = dataclasses.replace(anyapi, handlers={**anyapi.handlers, "retrieveBatch": broken})
    return create_app(Settings(response_validation=mode), providers={**PROVIDERS, "anyapi": provider})


def test_strict_mode_still_raises_on_a_response_that_breaks_the_spec_and_warn_records_it() -> None:
    from mockserver.core.engine import ContractViolation

    with TestClient(_breaking_app("strict", {"id": 1})) as client, pytest.raises(ContractViolation, match="is a required property"):
        client.get("/anyapi/v1/batches/batch_x", headers=AUTH["anyapi"])
    app = _breaking_app("warn", {"id": 1})
    with TestClient(app) as client:
        assert client.get("/anyapi/v1/batches/batch_x", headers=AUTH["anyapi"]).status_code == 200
    (violation,) = app.state.engine.violations
    assert violation.operation == "GET /batches/{batch_id}" and any("'object' is a required property" in p for p in violation.problems)


def test_a_response_carrying_nan_is_a_500_in_the_provider_envelope() -> None:
    with TestClient(_breaking_app("warn", {"id": float("nan")})) as client:
        answer = client.get("/anyapi/v1/batches/batch_x", headers=AUTH["anyapi"])
    assert answer.status_code == 500 and "unexpected error" in answer.json()["error"]["message"]
