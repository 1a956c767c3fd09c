"""The Retell backend without HTTP: seeded outcomes, fixtures, and what the admin API lists."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest

from mockserver.core.engine import Engine
from mockserver.core.settings import Settings
from mockserver.providers.retell import models
from mockserver.providers.retell.models import RetellBackend
from mockserver.providers.retell.scenarios import plan_for
from mockserver.server.live import LiveServer

LLM = {"type": "retell-llm", "llm_id": "llm_1"}
START = 1_767_225_600.0


def backend(seed: int = 0) -> tuple[Engine, RetellBackend]:
    engine = Engine(Settings(seed=seed, clock_speed=0.0, clock_start=START), {"retell": RetellBackend})
    return engine, engine.backend("retell", "key")


def finished_outcomes(seed: int, runs: int = 60, scenario: str = "default") -> list[str]:
    engine, retell = backend(seed)
    ids = [retell.create_test_case_definition(f"case {i}", LLM, "prompt", ["metric"]).id for i in range(runs)]
    batch = retell.create_batch_test(LLM, ids, plan_for(scenario, {}))
    engine.clock.advance(3600)
    return [run.state for run in retell.get_batch_test(batch.id).runs]


def test_outcomes_are_fixed_by_the_seed() -> None:
    assert finished_outcomes(seed=1) == finished_outcomes(seed=1)
    assert finished_outcomes(seed=1) != finished_outcomes(seed=2)


def test_default_mix_is_mostly_pass() -> None:
    outcomes = finished_outcomes(seed=0, runs=200)
    assert outcomes.count("pass") > 140 and {"fail", "error"} & set(outcomes)


def test_runs_start_in_waves() -> None:
    engine, retell = backend()
    ids = [retell.create_test_case_definition(f"case {i}", LLM, "prompt", []).id for i in range(models.CONCURRENCY + 1)]
    batch = retell.create_batch_test(LLM, ids, plan_for("default", {}))
    step = engine.settings.durations.test_run
    engine.clock.advance(step)
    states = [run.state for run in retell.get_batch_test(batch.id).runs]
    assert all(s in ("pass", "fail", "error") for s in states[:-1]) and states[-1] == "pending"
    engine.clock.advance(step)
    assert retell.get_batch_test(batch.id).state == "complete"


def test_fixture_batch_test_keeps_its_status_and_counts() -> None:
    engine, retell = backend()
    retell.load_fixture("test_case_definition", {
        "test_case_definition_id": "def_1", "name": "Loaded", "response_engine": LLM, "user_prompt": "p", "metrics": ["m"],
        "creation_timestamp": 1_767_139_200_000,
    })
    retell.load_fixture("batch_test", {
        "test_case_batch_job_id": "job_1", "response_engine": LLM, "status": "complete", "pass_count": 2, "fail_count": 1,
        "error_count": 0, "total_count": 3, "creation_timestamp": 1_767_225_600_000, "user_modified_timestamp": 1_767_225_694_512,
        "test_case_definition_ids": ["def_1"],
    })
    retell.load_fixture("batch_test", {"test_case_batch_job_id": "job_2", "response_engine": LLM, "status": "in_progress", "pass_count": 1, "total_count": 4})
    engine.clock.advance(86_400)
    done = retell.get_batch_test("job_1")
    assert (done.state, done.counts(), len(done.runs)) == ("complete", {"pass_count": 2, "fail_count": 1, "error_count": 0}, 3)
    assert int(done.modified * 1000) == 1_767_225_694_512
    assert done.runs[0].definition.name == "Loaded"
    running = retell.get_batch_test("job_2")
    assert running.state == "in_progress" and running.counts()["pass_count"] == 1
    assert retell.get_test_case_definition("def_1").created == 1_767_139_200.0
    assert [retell.describe(b)["id"] for b in retell.all_batches()] == ["job_1", "job_2"]


def test_fixture_errors_name_the_problem() -> None:
    _, retell = backend()
    with pytest.raises(ValueError, match="do not fit total_count"):
        retell.load_fixture("batch_test", {"response_engine": LLM, "status": "complete", "pass_count": 1, "total_count": 2})
    with pytest.raises(ValueError, match="unknown kind"):
        retell.load_fixture("batch_call_v0", {})
    with pytest.raises(ValueError, match="missing"):
        retell.load_fixture("test_case_definition", {"name": "x"})


def test_admin_lists_retell_batches(server: LiveServer) -> None:
    server.engine.backend("retell", "test-key").load_fixture(
        "batch_test", {"test_case_batch_job_id": "job_9", "response_engine": LLM, "status": "complete", "pass_count": 1, "total_count": 1}
    )
    rows = httpx.get(server.url + "/_mock/batches", params={"provider": "retell"}).json()["data"]
    assert [(r["id"], r["status"], r["total"], r["pass_count"]) for r in rows] == [("job_9", "complete", 1, 1)]
    assert isinstance(rows[0]["created"], int)


def test_models_know_no_http() -> None:
    package = Path(models.__file__).parent
    for name in ("models.py", "lifecycle.py", "scenarios.py"):
        tree = ast.parse((package / name).read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not any(m.split(".")[0] == "starlette" for m in imported), name


def test_a_scenario_that_never_runs_keeps_the_batch_in_progress() -> None:
    engine, retell = backend()
    ids = [retell.create_test_case_definition(f"case {i}", LLM, "prompt", []).id for i in range(25)]
    batch = retell.create_batch_test(LLM, ids, plan_for("stuck", {"stuck": {"test_run": float("inf")}}))
    engine.clock.advance(10 * 365 * 86_400)
    batch = retell.get_batch_test(batch.id)
    assert batch.state == "in_progress" and {run.state for run in batch.runs} == {"pending"}
    assert batch.modified == batch.created
