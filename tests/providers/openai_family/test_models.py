from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.core.engine import Engine
from mockserver.core.errors import InvalidRequest, NotFound
from mockserver.core.settings import Durations, Limits, Settings
from mockserver.providers.openai_family.models import OpenAIBatchBackend
from mockserver.providers.openai_family.scenarios import plan_for
from tests.conftest import jsonl


def make(settings: Settings | None = None, cancel_event: str = "cancel") -> tuple[Engine, OpenAIBatchBackend]:
    engine = Engine(settings or Settings(), {"x": lambda e: OpenAIBatchBackend(e, cancel_event=cancel_event)})
    engine.clock.set_speed(0)  # time moves only when the test says so
    return engine, engine.backend("x", "key")


def batch_of(backend: OpenAIBatchBackend, content: bytes, endpoint: str = "/v1/chat/completions", scenario: str | None = None) -> Any:
    file = backend.create_file("in.jsonl", "batch", content)
    plan = plan_for(scenario, backend.default_plan())
    return backend.create_batch(file.id, endpoint, "24h", plan=plan)


def lines(backend: OpenAIBatchBackend, file_id: str | None) -> list[dict[str, Any]]:
    assert file_id is not None
    return [json.loads(x) for x in backend.download_file(file_id).content.decode().splitlines()]


def test_happy_path_timestamps_are_the_moments_each_state_was_entered() -> None:
    engine, backend = make()
    t0 = engine.now()
    batch = batch_of(backend, jsonl(4))
    assert batch.state == "validating" and batch.request_counts(engine.now()) == {"total": 0, "completed": 0, "failed": 0}
    assert batch.expires_at - batch.created_at == 86_400
    engine.clock.advance(100)  # read long after everything happened
    batch = backend.retrieve_batch(batch.id)
    assert batch.state == "completed"
    d = Durations()
    assert batch.moments["in_progress"] == pytest.approx(t0 + d.validating)
    assert batch.moments["finalizing"] == pytest.approx(t0 + d.validating + d.in_progress)
    assert batch.moments["completed"] == pytest.approx(t0 + d.validating + d.in_progress + d.finalizing)
    assert batch.request_counts(engine.now()) == {"total": 4, "completed": 4, "failed": 0}
    out = lines(backend, batch.output_file_id)
    assert [o["custom_id"] for o in out] == [f"req-{i}" for i in range(4)]
    assert all(o["response"]["status_code"] == 200 and o["error"] is None for o in out)
    body = out[0]["response"]["body"]
    assert body["object"] == "chat.completion" and body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    assert batch.error_file_id is None
    assert backend.retrieve_file(batch.output_file_id).purpose == "batch_output"


@pytest.mark.parametrize(
    ("endpoint", "object_name"),
    [("/v1/embeddings", "list"), ("/v1/completions", "text_completion"), ("/v1/responses", "response"), ("/v1/chat/completions", "chat.completion")],
)
def test_each_endpoint_gets_its_own_realistic_response_shape(endpoint: str, object_name: str) -> None:
    engine, backend = make()
    batch = batch_of(backend, jsonl(2, url=endpoint), endpoint=endpoint)
    engine.clock.advance(60)
    body = lines(backend, backend.retrieve_batch(batch.id).output_file_id)[0]["response"]["body"]
    assert body["object"] == object_name
    if endpoint == "/v1/embeddings":
        assert len(body["data"][0]["embedding"]) == Settings().embedding_dimensions


def test_counts_grow_during_in_progress() -> None:
    engine, backend = make(Settings(durations=Durations(validating=1, in_progress=10)))
    batch = batch_of(backend, jsonl(10))
    engine.clock.advance(1)
    seen = []
    for _ in range(11):
        seen.append(backend.retrieve_batch(batch.id).request_counts(engine.now())["completed"])
        engine.clock.advance(1)
    assert seen == sorted(seen) and seen[0] == 0 and seen[-1] == 10 and len(set(seen)) > 5


@pytest.mark.parametrize(
    ("content", "code", "line"),
    [
        (b"", "empty_file", None),
        (jsonl(1) + b"{not json\n", "invalid_json_line", 2),
        (jsonl(2).replace(b"req-1", b"req-0"), "duplicate_custom_id", 2),
        (jsonl(1, url="/v1/embeddings"), "url_mismatch", 1),
        (b'{"custom_id": "a", "url": "/v1/chat/completions", "body": {}}\n', "missing_required_parameter", 1),
        (jsonl(1) + jsonl(1, model="other").replace(b"req-0", b"req-9"), "model_mismatch", 2),
    ],
)
def test_bad_input_files_make_the_batch_fail_validation_with_coded_errors(content: bytes, code: str, line: int | None) -> None:
    engine, backend = make()
    batch = batch_of(backend, content)
    engine.clock.advance(5)
    batch = backend.retrieve_batch(batch.id)
    assert batch.state == "failed" and "failed" in batch.moments and "in_progress" not in batch.moments
    assert batch.validation_errors[0].code == code
    assert batch.validation_errors[0].line == line
    assert batch.output_file_id is None and batch.error_file_id is None


def test_too_many_requests_fails_validation() -> None:
    engine, backend = make(Settings(limits=Limits(max_batch_requests=3)))
    batch = batch_of(backend, jsonl(4))
    engine.clock.advance(5)
    assert backend.retrieve_batch(batch.id).validation_errors[0].code == "too_many_tasks"


def test_expiry_sends_unfinished_lines_to_the_error_file() -> None:
    engine, backend = make()
    batch = batch_of(backend, jsonl(3), scenario="expire")
    engine.clock.advance(86_399)
    assert backend.retrieve_batch(batch.id).state == "in_progress"
    engine.clock.advance(2)
    batch = backend.retrieve_batch(batch.id)
    assert batch.state == "expired" and int(batch.moments["expired"]) == int(batch.expires_at)
    errors = lines(backend, batch.error_file_id)
    assert [e["error"]["code"] for e in errors] == ["batch_expired"] * 3
    assert all(e["response"] is None for e in errors)


def test_cancel_keeps_finished_lines_and_cancels_the_rest() -> None:
    engine, backend = make(Settings(durations=Durations(validating=1, in_progress=10, cancelling=2)))
    batch = batch_of(backend, jsonl(10))
    engine.clock.advance(6)  # 5 s into a 10 s run: half the lines are done
    batch = backend.cancel_batch(batch.id)
    assert batch.state == "cancelling" and batch.request_counts(engine.now())["completed"] == 5
    engine.clock.advance(2)
    batch = backend.retrieve_batch(batch.id)
    assert batch.state == "cancelled"
    assert len(lines(backend, batch.output_file_id)) == 5
    assert {e["error"]["code"] for e in lines(backend, batch.error_file_id)} == {"batch_cancelled"}
    with pytest.raises(InvalidRequest, match="Cannot cancel a batch with status 'cancelled'"):
        backend.cancel_batch(batch.id)


def test_one_step_cancel_for_dialects_that_document_it() -> None:
    engine, backend = make(cancel_event="cancel_now")
    batch = batch_of(backend, jsonl(2))
    assert backend.cancel_batch(batch.id).state == "cancelled"
    assert backend.cancel_batch(batch.id).state == "cancelled"  # idempotent


def test_cancel_race_completes_anyway() -> None:
    engine, backend = make()
    batch = batch_of(backend, jsonl(2), scenario="cancel_race")
    engine.clock.advance(1.5)
    assert backend.cancel_batch(batch.id).state == "cancelling"
    engine.clock.advance(10)
    batch = backend.retrieve_batch(batch.id)
    assert batch.state == "completed" and "cancelling" in batch.moments
    assert batch.request_counts(engine.now()) == {"total": 2, "completed": 2, "failed": 0}


def test_failing_lines_go_to_the_error_file_with_http_errors() -> None:
    engine, backend = make(Settings(line_failure_rate=0.5))
    batch = batch_of(backend, jsonl(40))
    engine.clock.advance(60)
    batch = backend.retrieve_batch(batch.id)
    counts = batch.request_counts(engine.now())
    failed = lines(backend, batch.error_file_id)
    assert 0 < counts["failed"] < 40 and counts["failed"] == len(failed)
    assert counts["completed"] == len(lines(backend, batch.output_file_id))
    assert all(e["response"]["status_code"] >= 400 and "error" in e["response"]["body"] for e in failed)


def test_same_seed_same_results() -> None:
    def run() -> str:
        engine, backend = make(Settings(seed=5, line_failure_rate=0.3))
        batch = batch_of(backend, jsonl(20))
        engine.clock.advance(60)
        batch = backend.retrieve_batch(batch.id)
        return backend.download_file(batch.error_file_id).content.decode()

    assert run() == run()


def test_unknown_ids_and_wrong_purpose() -> None:
    engine, backend = make()
    with pytest.raises(NotFound):
        backend.retrieve_batch("batch_nope")
    with pytest.raises(NotFound):
        backend.create_batch("file-nope", "/v1/chat/completions", "24h")
    other = backend.create_file("notes.txt", "assistants", b"hi")
    with pytest.raises(InvalidRequest, match="purpose 'batch'"):
        backend.create_batch(other.id, "/v1/chat/completions", "24h")
    with pytest.raises(InvalidRequest, match="Must be .jsonl"):
        backend.create_file("data.csv", "batch", b"a,b")


def test_size_limits_on_upload() -> None:
    engine, backend = make(Settings(limits=Limits(max_batch_file_bytes=10, max_file_bytes=20)))
    with pytest.raises(InvalidRequest, match="at most 10 bytes"):
        backend.create_file("in.jsonl", "batch", b"x" * 11)
    with pytest.raises(InvalidRequest, match="too large"):
        backend.create_file("a.txt", "assistants", b"x" * 21)


def test_list_pages_newest_first_without_skipping_or_repeating() -> None:
    engine, backend = make()
    file = backend.create_file("in.jsonl", "batch", jsonl(1))
    ids = [backend.create_batch(file.id, "/v1/chat/completions", "24h").id for _ in range(5)]
    seen, after, more = [], None, True
    while more:
        page, more = backend.list_batches(after=after, limit=2)
        seen += [b.id for b in page]
        after = page[-1].id
    assert seen == ids[::-1]
    assert backend.list_batches(after="batch_unknown") == ([], False)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=30),
    rate=st.floats(min_value=0, max_value=1),
    steps=st.lists(st.floats(min_value=0, max_value=3), min_size=1, max_size=15),
    cancel_at=st.one_of(st.none(), st.integers(min_value=0, max_value=14)),
)
def test_counts_never_decrease_and_always_add_up(n: int, rate: float, steps: list[float], cancel_at: int | None) -> None:
    engine, backend = make(Settings(line_failure_rate=rate, durations=Durations(validating=0.5, in_progress=4, finalizing=0.5, cancelling=1)))
    batch = batch_of(backend, jsonl(n) if n else b"")
    previous = {"total": 0, "completed": 0, "failed": 0}
    history = ["validating"]
    for i, step in enumerate(steps):
        engine.clock.advance(step)
        batch = backend.retrieve_batch(batch.id)
        if cancel_at == i and batch.state in ("validating", "in_progress", "finalizing"):
            backend.cancel_batch(batch.id)
        counts = batch.request_counts(engine.now())
        assert counts["completed"] + counts["failed"] <= counts["total"]
        assert counts["completed"] >= previous["completed"] and counts["failed"] >= previous["failed"]
        if history[-1] != batch.state:
            history.append(batch.state)
        previous = counts
    from mockserver.providers.openai_family.lifecycle import BATCH_LIFECYCLE

    legal = BATCH_LIFECYCLE.edges()
    for a, b in zip(history, history[1:]):
        assert (a, b) in legal or any((a, m) in legal and (m, b) in legal for m in BATCH_LIFECYCLE.states())
