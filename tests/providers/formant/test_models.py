"""The FormantAI backend without HTTP: the retry policy, seeded outcomes, consistent metrics, fixtures."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mockserver.core.engine import Engine
from mockserver.core.settings import Settings
from mockserver.providers.formant import models
from mockserver.providers.formant.csvfile import Recipient
from mockserver.providers.formant.lifecycle import FINAL_STATES, RETRYABLE
from mockserver.providers.formant.models import FormantBackend
from mockserver.providers.formant.scenarios import plan_for

START = 1_773_657_000.0


def backend(seed: int = 0) -> tuple[Engine, FormantBackend]:
    engine = Engine(Settings(seed=seed, clock_speed=0.0, clock_start=START), {"formant": FormantBackend})
    return engine, engine.backend("formant", "key")


def recipients(n: int) -> list[Recipient]:
    return [Recipient(i + 2, f"+9198765{i:05d}", {"i": str(i)}) for i in range(n)]


def run_to_end(seed: int, n: int = 80, scenario: str = "default", user: dict[str, dict[str, object]] | None = None) -> list[tuple[str, int]]:
    engine, formant = backend(seed)
    batch = formant.create_batch_call(1, "b", recipients(n), plan_for(scenario, user or {}))
    engine.clock.advance(3600)
    return [(call.state, len(call.attempts)) for call in formant.get_batch_call(batch.id).calls]


def test_outcomes_are_fixed_by_the_seed() -> None:
    assert run_to_end(seed=3) == run_to_end(seed=3)
    assert run_to_end(seed=3) != run_to_end(seed=4)


def test_retry_policy() -> None:
    engine, formant = backend()
    batch = formant.create_batch_call(1, "b", recipients(300), plan_for("hard_to_reach", {}))
    for call in batch.calls:
        outcomes = [a.outcome for a in call.attempts]
        assert 1 <= len(outcomes) <= 3
        assert all(o in RETRYABLE for o in outcomes[:-1])  # only busy / no_answer / socket_failure are retried
        assert len(outcomes) == 3 or outcomes[-1] not in RETRYABLE
        gaps = [b.start - a.end for a, b in zip(call.attempts, call.attempts[1:])]
        assert gaps == pytest.approx([engine.settings.durations.retry_delay] * len(gaps))
    assert any(len(call.attempts) == 3 for call in batch.calls)


def test_no_retries_scenario_never_waits() -> None:
    assert all(attempts == 1 for _, attempts in run_to_end(seed=0, scenario="no_retries"))


def test_every_call_is_counted_once_at_every_moment() -> None:
    engine, formant = backend()
    n = 45
    batch = formant.create_batch_call(1, "b", recipients(n), plan_for("hard_to_reach", {}))
    seen = set()
    for _ in range(200):
        metrics = formant.get_batch_call_metrics(batch.id)
        states = [call.state for call in batch.calls]
        seen |= set(states)
        assert metrics["in_progress_count"] == states.count("in_progress")
        assert metrics["pending_retry_count"] == states.count("pending_retry")
        assert metrics["total_processed"] == sum(states.count(s) for s in FINAL_STATES)
        assert metrics["total_processed"] + metrics["in_progress_count"] + metrics["pending_retry_count"] + states.count("queued") == n
        if batch.state == "completed":
            break
        engine.clock.advance(0.5)
    assert batch.state == "completed" and {"queued", "in_progress", "pending_retry", "completed"} <= seen
    assert formant.get_batch_call(batch.id).finished == max(call.entered_at for call in batch.calls)


def test_a_fixture_without_metrics_is_simulated_and_frozen() -> None:
    engine, formant = backend()
    formant.load_fixture("batch_call", {"id": 7, "name": "Old", "agent_id": 3, "status": "completed", "total_recipients": 20,
                                        "created_at": "2026-03-16T10:30:00Z", "updated_at": "2026-03-16T12:02:41Z"})
    engine.clock.advance(86_400)
    batch = formant.get_batch_call(7)
    metrics = batch.metrics()
    assert batch.state == "completed" and metrics["total_processed"] == 20
    assert batch.finished == batch.updated == 1_773_657_000 + 5_561
    assert formant.describe(batch) == {"id": 7, "status": "completed", "created": 1_773_657_000, "total_recipients": 20}
    with pytest.raises(ValueError, match="status must be one of"):
        formant.load_fixture("batch_call", {"id": 8, "name": "x", "agent_id": 1, "status": "done"})
    with pytest.raises(ValueError, match="unknown kind"):
        formant.load_fixture("agent", {})


def test_models_know_no_http() -> None:
    package = Path(models.__file__).parent
    for name in ("models.py", "lifecycle.py", "scenarios.py", "csvfile.py"):
        tree = ast.parse((package / name).read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not any(m.split(".")[0] == "starlette" for m in imported), name


def test_scenario_durations_and_a_retry_that_never_comes() -> None:
    engine, formant = backend()
    plan = plan_for("slow_busy", {"slow_busy": {"outcomes": {"busy": 1}, "call": 30.0, "retry_delay": float("inf")}})
    batch = formant.create_batch_call(1, "b", recipients(3), plan)
    validating = engine.settings.durations.validating
    assert all(START + validating <= c.attempts[0].start < START + validating + 3.0 for c in batch.calls)  # 10% of a 30 s slot
    assert all(c.attempts[0].end - c.attempts[0].start <= 30.0 * 0.07 for c in batch.calls)
    engine.clock.advance(86_400)
    metrics = formant.get_batch_call_metrics(batch.id)
    assert (metrics["pending_retry_count"], metrics["total_processed"], batch.state) == (3, 0, "processing")
