"""The kit against a batches server it was not built with (tests/contract/foreign/server.py): every planted bug
class is caught, by the check that names it, and the faithful server passes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mockserver.contract.mutants import serve
from mockserver.contract.report import Report
from mockserver.contract.runner import Options, run_contract
from tests.contract.foreign.server import BUGS, ForeignBatches

KEY = "sk-foreign-0123456789"
# the flows and list walks only (the kit's own invariants), polling a lifecycle of about half a second
FLOWS = Options(phases=(), poll_interval=0.05, poll_timeout=5, shrink=False)
# plus schemathesis' generated cases (read-only, and negative writes)
FUZZ = Options(phases=("fuzzing",), max_examples=5, flows=1, poll_interval=0.05, poll_timeout=5, shrink=False)

# bug -> (options, the (operation, check) that must fail)
CAUGHT_BY = {
    "decreasing_counter": (FLOWS, ("GET /batches/{batch_id}", "counters_monotonic")),
    "completed_before_in_progress": (FLOWS, ("GET /batches/{batch_id}", "timestamps_consistent")),
    "has_more_off_by_one": (FLOWS, ("GET /batches", "pagination_consistent")),
    "cancel_completed_flips": (FLOWS, ("POST /batches/{batch_id}/cancel", "terminal_refuses_mutation")),
    "short_output": (FLOWS, ("GET /files/{file_id}/content", "results_consistent")),
    "duplicate_custom_id": (FLOWS, ("GET /files/{file_id}/content", "results_consistent")),
    "bad_jsonl_500": (FLOWS, ("POST /files", "not_a_server_error")),
    "completed_at_creation": (FLOWS, ("POST /batches", "initial_state")),
    "same_id_twice": (FLOWS, ("POST /batches", "distinct_ids")),
    "cancel_404_after_read": (FLOWS, ("POST /batches/{batch_id}/cancel", "mutation_finds_resource")),
    "not_listed": (FLOWS, ("GET /batches", "created_listed")),
    "created_at_moves": (FLOWS, ("GET /batches/{batch_id}", "timestamps_stable")),
    "no_partial_results": (FLOWS, ("GET /batches/{batch_id}", "partial_results")),
    "counts_exceed_total": (FLOWS, ("GET /batches/{batch_id}", "counters_consistent")),
    "wrong_key_accepted": (FUZZ, ("GET /batches", "ignored_auth")),
    "file_without_status": (FLOWS, ("POST /files", "sdk_models")),
    "line_without_choices": (FLOWS, ("GET /files/{file_id}/content", "sdk_models")),
}


@contextmanager
def foreign(*bugs: str) -> Iterator[str]:
    with serve(ForeignBatches(KEY, frozenset(bugs)).app()) as url:
        yield url + "/v1"


def run(url: str, options: Options) -> Report:
    return run_contract("anyapi", base_url=url, api_key=KEY, allow_writes=True, environ={}, options=options)


def test_every_bug_class_has_a_catching_check() -> None:
    assert set(CAUGHT_BY) == set(BUGS) and len(BUGS) >= 10


def test_the_faithful_server_passes() -> None:
    with foreign() as url:
        report = run(url, Options(phases=("coverage", "fuzzing"), max_examples=3, poll_interval=0.05, poll_timeout=5, shrink=False))
    assert report.ok, report.summary()
    checks = {check for _, check in report.outcomes}
    assert {"initial_state", "distinct_ids", "created_listed", "terminal_refuses_mutation", "results_consistent",
            "partial_results", "bad_input_refused", "sdk_models"} <= checks


@pytest.mark.parametrize("bug", sorted(CAUGHT_BY))
def test_each_planted_bug_is_caught(bug: str) -> None:
    options, expected = CAUGHT_BY[bug]
    with foreign(bug) as url:
        report = run(url, options)
    assert not report.ok and expected in report.failing(), report.summary()


EXPLORE = Options(flows=0, explore=True, phases=("fuzzing", "stateful"), max_examples=6, shrink=False)


def test_explore_finds_a_server_error_on_bad_input_with_generated_writes() -> None:
    with foreign("bad_jsonl_500") as url:
        report = run(url, EXPLORE)  # no flow of the kit's own: only generated requests
    assert report.requests_by_method.get("POST", 0) > 10
    assert ("POST /files", "not_a_server_error") in report.failing(), report.summary()
    finding = report.outcomes[("POST /files", "not_a_server_error")].findings[0]
    assert 'Authorization: Bearer $ANYAPI_API_KEY' in finding.example and KEY not in finding.example  # a runnable curl


def test_explore_passes_the_faithful_server_and_without_it_no_write_is_generated() -> None:
    server = ForeignBatches(KEY)
    with serve(server.app()) as root:
        plain = run(root + "/v1", Options(flows=0, phases=("fuzzing",), max_examples=6, shrink=False))
        # writes got negative cases only: no batch (a file part sent as a number is still a file, and may be stored)
        assert plain.ok and not server.jobs
        explored = run(root + "/v1", EXPLORE)
    assert explored.ok, explored.summary()
    assert server.files and server.jobs  # generated uploads and batches
    assert any(f.content.count(b"\n") > 1 for f in server.files.values())  # JSONL inputs of several lines


def test_an_ignored_auth_finding_is_saved_and_replays(tmp_path: Path) -> None:
    from mockserver.contract.profiles import get_profile
    from mockserver.contract.reproduce import load_findings, save_findings

    with foreign("wrong_key_accepted") as url:
        report = run(url, FUZZ)
        saved = save_findings(report, tmp_path, get_profile("anyapi"))
        findings = [f for path in saved for f in load_findings(path) if f["check"] == "ignored_auth"]
        assert findings, report.summary()
        replayed = run(url, Options(phases=(), replay=tuple(findings), poll_interval=0.05, poll_timeout=5))
    assert ("GET /batches", "ignored_auth") in replayed.failing(), replayed.summary()
    with foreign() as url:
        assert run(url, Options(phases=(), replay=tuple(findings), poll_interval=0.05, poll_timeout=5)).ok
