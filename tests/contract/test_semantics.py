from __future__ import annotations

from typing import Any

from mockserver.contract.mutants import CATALOGUE, check_mutant
from mockserver.contract.profiles import get_profile
from mockserver.contract.report import Report
from mockserver.contract.runner import Options, run_contract
from mockserver.contract.semantics import Observer
from mockserver.server.live import LiveServer
from tests.contract.conftest import KEY

GET = "GET /batches/{batch_id}"


def batch(status: str, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"id": "batch_1", "object": "batch", "status": status, "created_at": 100, "expires_at": 86500,
                            "request_counts": {"total": 2, "completed": 0, "failed": 0}}
    for state in ("in_progress", "finalizing", "completed", "failed", "expired", "cancelling", "cancelled"):
        data[f"{state}_at"] = None
    data.update(fields)
    return data


def observe(*bodies: dict[str, Any], operation: str = "retrieveBatch") -> Report:
    report = Report("anyapi", "x", "fake")
    observer = Observer(get_profile("anyapi"), report)
    for body in bodies:
        observer.observe(operation, GET, {"batch_id": "batch_1"}, 200, body)
    return report


def failed(report: Report) -> set[str]:
    return {check for (_, check), o in report.outcomes.items() if o.failed}


def test_a_normal_life_passes_every_check() -> None:
    report = observe(
        batch("validating"),
        batch("in_progress", in_progress_at=101),
        batch("completed", in_progress_at=101, finalizing_at=103, completed_at=104, request_counts={"total": 2, "completed": 2, "failed": 0}),
        batch("completed", in_progress_at=101, finalizing_at=103, completed_at=104, request_counts={"total": 2, "completed": 2, "failed": 0}),
    )
    assert report.ok and {"legal_transitions", "terminal_stays_terminal", "counters_monotonic", "timestamps_stable"} <= {c for _, c in report.outcomes}


def test_going_back_is_an_illegal_transition() -> None:
    assert failed(observe(batch("in_progress", in_progress_at=101), batch("validating"))) >= {"legal_transitions"}


def test_a_terminal_state_stays() -> None:
    report = observe(batch("cancelled", cancelled_at=105), batch("in_progress", in_progress_at=101, cancelled_at=105))
    assert "terminal_stays_terminal" in failed(report)


def test_counters_never_decrease_and_add_up() -> None:
    report = observe(batch("in_progress", in_progress_at=101, request_counts={"total": 2, "completed": 2, "failed": 0}),
                     batch("in_progress", in_progress_at=101, request_counts={"total": 2, "completed": 1, "failed": 2}))
    assert {"counters_monotonic", "counters_consistent"} <= failed(report)


def test_timestamps_match_the_status_and_never_move() -> None:
    assert "timestamps_consistent" in failed(observe(batch("in_progress")))  # in_progress_at missing
    assert "timestamps_consistent" in failed(observe(batch("in_progress", in_progress_at=101, completed_at=102)))  # not reached
    assert "timestamps_consistent" in failed(observe(batch("in_progress", in_progress_at=99)))  # before created_at
    assert "timestamps_stable" in failed(observe(batch("validating"), batch("validating", created_at=101)))


def test_a_partial_answer_is_checked_on_what_it_has() -> None:
    report = observe(batch("in_progress", in_progress_at=101), {"id": "batch_1", "object": "batch", "status": "cancelled"},
                     operation="cancelBatch")
    assert report.ok


def test_list_items_are_observed_by_id() -> None:
    report = Report("anyapi", "x", "fake")
    observer = Observer(get_profile("anyapi"), report)
    observer.observe("retrieveBatch", GET, {"batch_id": "batch_1"}, 200, batch("completed", in_progress_at=101, finalizing_at=102, completed_at=103))
    observer.observe("listBatches", "GET /batches", {}, 200, {"object": "list", "data": [batch("in_progress", in_progress_at=101)], "has_more": False})
    assert "terminal_stays_terminal" in failed(report)


def test_flows_and_pagination_pass_on_the_fake(live: LiveServer) -> None:
    for provider in ("anyapi", "retell", "formant"):
        report = run_contract(provider, base_url=live.base_url(provider), api_key=KEY, allow_writes=True, environ={},
                              options=Options(phases=(), poll_timeout=5, poll_interval=0.05))
        checks = {check for _, check in report.outcomes}
        assert report.ok, report.summary()
        assert {"created_readable", "pagination_consistent", "legal_transitions", "counters_monotonic"} <= checks, checks


def test_pagination_catches_a_lying_has_more_on_other_providers() -> None:
    mutant = next(m for m in CATALOGUE if m.name == "has_more_lies")
    for provider in ("phaseo", "formant"):
        report, expected = check_mutant(provider, mutant, Options(phases=(), flows=2, poll_timeout=3, poll_interval=0.05))
        assert expected & report.failing(), report.summary()
