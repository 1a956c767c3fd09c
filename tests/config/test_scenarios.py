"""Scenario files: the schema and its error messages, and scenarios chosen per server, per batch (metadata
or header) and per test (the marker), deterministic under a seed; ``mockserver serve --scenarios``."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import OpenAI

from mockserver import cli
from mockserver.config.baseline import Baseline
from mockserver.config.documents import DocumentError
from mockserver.config.scenarios import builtin_names, load_scenario_file
from mockserver.testing.harness import Harness
from tests.conftest import jsonl

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def scenario_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenarios.yaml"
    path.write_text(text)
    return path


def client_for(mock_server: Harness, **headers: str) -> OpenAI:
    return OpenAI(base_url=mock_server.base_url("anyapi"), api_key="k", default_headers=headers or None)


def start(client: OpenAI, n: int = 4, **kwargs: Any) -> Any:
    file = client.files.create(file=("in.jsonl", io.BytesIO(jsonl(n))), purpose="batch")
    return client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h", **kwargs)


# -- the schema -----------------------------------------------------------------------------------------


def test_the_shipped_scenario_files_load_and_are_stored_flat() -> None:
    parsed = load_scenario_file(FIXTURES / "scenarios.yaml")
    assert parsed.scenarios["overnight"]["in_progress"] == 21600.0
    assert parsed.scenarios["never_finishes"]["in_progress"] == float("inf")
    assert parsed.scenarios["regression_suite"]["outcomes"] == {"pass": 0.6, "fail": 0.3, "error": 0.1}
    assert parsed.scenarios["busy_evening"]["max_attempts"] == 2
    assert len(load_scenario_file(FIXTURES / "flaky.yaml").faults) == 4


def test_the_default_may_name_a_builtin_of_any_provider_or_a_scenario_of_the_file(tmp_path: Path) -> None:
    assert {"expire", "all_fail", "telephony_outage"} <= builtin_names()
    assert load_scenario_file(scenario_file(tmp_path, "default: all_fail\n")).default == "all_fail"
    assert load_scenario_file(scenario_file(tmp_path, "default: mine\nscenarios:\n  mine: {cancel_race: true}\n")).default == "mine"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("scenarios:\n  slow:\n    line_failure_rate: 1.5\n", "line 3, key 'scenarios.slow.line_failure_rate': expected a number between 0 and 1, got 1.5"),
        ("scenarios:\n  slow:\n    in_progress: 60\n", "line 3, key 'scenarios.slow.in_progress': unknown key 'in_progress' (expected one of: description, durations,"),
        ("scenarios:\n  slow:\n    durations:\n      in_progres: 60\n", "line 4, key 'scenarios.slow.durations.in_progres': unknown key 'in_progres' (expected one of: validating, in_progress,"),
        ("scenarios:\n  slow:\n    durations: {finalizing: -1}\n", "line 3, key 'scenarios.slow.durations.finalizing': expected a number >= 0 (or .inf / \"never\"), got -1"),
        ("scenarios:\n  mix:\n    outcomes: {pass: 1, success: 1}\n", "line 3, key 'scenarios.mix.outcomes': expected outcome weights of one provider (Retell: pass, fail, error; FormantAI: success,"),
        ("scenarios:\n  mix:\n    outcomes: {pass: 0}\n", "line 3, key 'scenarios.mix.outcomes': expected at least one outcome with a weight > 0"),
        ("scenarios:\n  calls:\n    max_attempts: 0\n", "line 3, key 'scenarios.calls.max_attempts': expected an integer >= 1, got 0"),
        ("scenarios:\n  race:\n    cancel_race: yes please\n", "line 3, key 'scenarios.race.cancel_race': expected true or false, got 'yes please'"),
        ("scenarios:\n  typed:\n    phaseo_status: openai\n", "line 3, key 'scenarios.typed.phaseo_status': expected documented or upstream, got 'openai'"),
        ("default: nope\n", "line 1, key 'default': expected the name of a scenario (all_error, "),
        ("defaults: complete\n", "line 1, key 'defaults': unknown key 'defaults' (expected one of: default, scenarios, faults, webhooks)"),
        ("scenarios: [a, b]\n", "line 1, key 'scenarios': expected a mapping, got 'list'"),
        ("scenarios:\n  a: {durations: {validating: 1}\n", "line 3: not valid YAML"),
    ],
)
def test_a_bad_scenario_file_names_the_file_the_line_the_key_and_what_was_expected(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DocumentError) as info:
        load_scenario_file(scenario_file(tmp_path, text))
    assert str(info.value).startswith(str(tmp_path / "scenarios.yaml"))
    assert message in str(info.value)


def test_a_missing_file_is_named() -> None:
    with pytest.raises(DocumentError, match="no_such.yaml: cannot read: No such file"):
        load_scenario_file("no_such.yaml")


# -- choosing a scenario --------------------------------------------------------------------------------


@pytest.mark.mockserver(scenarios={"slow": {"durations": {"in_progress": 100}}})
def test_per_batch_by_metadata_or_header_with_a_user_scenario(mock_server: Harness) -> None:
    plain = start(client_for(mock_server))
    by_metadata = start(client_for(mock_server), metadata={"mock_scenario": "slow"})
    by_header = start(client_for(mock_server, **{"X-Mock-Scenario": "slow"}))
    mock_server.clock.advance(50)
    statuses = [client_for(mock_server).batches.retrieve(b.id).status for b in (plain, by_metadata, by_header)]
    assert statuses == ["completed", "in_progress", "in_progress"]
    mock_server.clock.advance(100)
    assert client_for(mock_server).batches.retrieve(by_header.id).status == "completed"


@pytest.mark.mockserver(scenario="fail_validation")
def test_per_test_the_marker_sets_the_default(mock_server: Harness) -> None:
    batch = start(client_for(mock_server))
    mock_server.clock.advance(5)
    batch = client_for(mock_server).batches.retrieve(batch.id)
    assert batch.status == "failed"
    assert start(client_for(mock_server), metadata={"mock_scenario": "complete"}).status == "validating"


def test_per_server_the_scenario_file_sets_the_default_and_reset_keeps_it(tmp_path: Path, mock_server: Harness) -> None:
    path = scenario_file(tmp_path, "default: all_lines_fail\nscenarios:\n  all_lines_fail: {line_failure_rate: 1}\n")
    engine = mock_server.engine
    hooks = list(engine.reset_hooks)
    try:
        Baseline.load([path]).install(engine, mock_server.providers)
        engine.scenarios["added_later"] = {}
        engine.reset()
        assert engine.scenarios.default == "all_lines_fail" and "added_later" not in engine.scenarios
        batch = start(client_for(mock_server))
        mock_server.clock.advance(10)
        assert client_for(mock_server).batches.retrieve(batch.id).request_counts.failed == 4
    finally:
        engine.reset_hooks.set(hooks)


def test_a_default_naming_another_providers_scenario_leaves_openai_batches_alone(mock_server: Harness) -> None:
    """engine.scenarios.default is shared; "all_fail" is Retell's. An OpenAI batch gets the default plan
    once the handler passes explicit= (see plan_for); asked for by name it is a 400."""
    from mockserver.providers.openai_family.models import OpenAIBatchBackend
    from mockserver.providers.openai_family.scenarios import plan_for

    default = OpenAIBatchBackend(mock_server.engine).default_plan()
    assert plan_for("all_fail", default, {}, explicit=False) == default
    with pytest.raises(Exception, match="Unknown mock scenario 'all_fail'"):
        plan_for("all_fail", default, {})


@pytest.mark.mockserver(scenarios={"doomed": {"outcomes": {"fail": 1}}})
def test_a_retell_batch_test_takes_a_user_scenario_by_header(mock_server: Harness) -> None:
    retell = httpx.Client(base_url=mock_server.base_url("retell"), headers={"Authorization": "Bearer k"})
    engine = {"type": "retell-llm", "llm_id": "llm_1"}
    definition = retell.post("/create-test-case-definition", json={"name": "t", "response_engine": engine, "user_prompt": "hi", "metrics": ["m"]})
    ids = [definition.json()["test_case_definition_id"]] * 3
    batch = retell.post("/create-batch-test", json={"response_engine": engine, "test_case_definition_ids": ids}, headers={"X-Mock-Scenario": "doomed"})
    assert batch.status_code == 201, batch.text
    mock_server.clock.advance(3600)
    finished = retell.get(f"/get-batch-test/{batch.json()['test_case_batch_job_id']}").json()
    assert (finished["status"], finished["fail_count"], finished["pass_count"]) == ("complete", 3, 0)


def failing_lines(mock_server: Harness) -> list[str]:
    client = client_for(mock_server)
    batch = start(client, n=20, metadata={"mock_scenario": "partial_failure"})
    mock_server.clock.advance(10)
    batch = client.batches.retrieve(batch.id)
    return [json.loads(line)["custom_id"] for line in client.files.content(batch.error_file_id).text.splitlines()]


@pytest.mark.mockserver(seed=11)
def test_outcomes_are_deterministic_under_a_seed(mock_server: Harness) -> None:
    first = failing_lines(mock_server)
    mock_server.reset()
    assert failing_lines(mock_server) == first
    mock_server.engine.reseed(12)
    mock_server.reset()
    assert failing_lines(mock_server) != first  # undone by the fixture after the test


# -- mockserver serve --scenarios ---------------------------------------------------------------------------


def served_app(monkeypatch: pytest.MonkeyPatch, *argv: str) -> Any:
    started: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: started.setdefault("app", app))
    assert cli.main(["serve", "--port", "1", *argv]) == 0
    return started["app"]


def test_serve_loads_the_scenario_files(monkeypatch: pytest.MonkeyPatch) -> None:
    app = served_app(monkeypatch, "--scenarios", str(FIXTURES / "scenarios.yaml"), "--scenarios", str(FIXTURES / "flaky.yaml"))
    engine = app.state.engine
    assert "overnight" in engine.scenarios and [f.id for f in list(engine.faults)] == ["fault_1", "fault_2", "fault_3", "fault_4"]


def test_serve_rejects_a_bad_scenario_file_with_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario_file(tmp_path, "scenarios:\n  x:\n    line_failure_rate: 2\n")
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("must not serve"))
    assert cli.main(["serve", "--scenarios", str(path)]) == 2
    assert f"{path}, line 3, key 'scenarios.x.line_failure_rate': expected a number between 0 and 1, got 2" in capsys.readouterr().err
