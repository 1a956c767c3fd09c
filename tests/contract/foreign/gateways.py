"""What tests/contract/test_foreign_portkey.py and test_foreign_formant.py share: the planted classes of the two
independent servers with the check that must catch each, and the three verdicts (faithful across seeds, each planted
class caught with every saved finding replayed, a generated script exiting 1 while the bug is there)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mockserver.contract.profiles import get_profile
from mockserver.contract.report import Report
from mockserver.contract.reproduce import load_findings, save_findings
from mockserver.contract.runner import Options, run_contract

KEY = "sk-gateway-0123456789"
# the flows, list walks and probes only (the kit's own checks), polling lifecycles of well under a second
FLOWS = Options(phases=(), flows=2, poll_interval=0.05, poll_timeout=5, shrink=False)

PORTKEY = {
    "metadata_dropped": ("GET /batches/{batch_id}", "round_trip"),
    "list_metadata_stale": ("GET /batches", "round_trip"),
    "filename_lost": ("POST /files", "round_trip"),
    "unknown_input_accepted": ("POST /batches", "unknown_reference_refused"),
    "deleted_still_readable": ("DELETE /files/{file_id}", "deleted_gone"),
    "deleted_still_listed": ("DELETE /files/{file_id}", "deleted_gone"),
    "output_missing_line": ("GET /batches/{batch_id}/output", "output_matches_file"),
    "purpose_filter_ignored": ("GET /files", "list_filter"),
    "order_param_ignored": ("GET /files", "sort_order"),
    "batches_oldest_first": ("GET /batches", "sort_order"),
    "unknown_batch_empty_200": ("GET /batches/{batch_id}", "unknown_id_404"),
    "unknown_file_400": ("GET /files/{file_id}", "unknown_id_404"),
    "framework_404": ("POST /batches/{batch_id}/cancel", "unknown_id_404"),
    "created_at_ms": ("POST /batches", "timestamps_units"),
    "cancel_answers_old_state": ("POST /batches/{batch_id}/cancel", "mutation_answer_state"),
    "canceled_spelling": ("GET /batches/{batch_id}", "response_schema_conformance"),
}
FORMANT = {
    "name_from_filename": ("POST /v1/batch-call", "round_trip"),
    "header_row_counted": ("GET /v1/batch-calls/{batch_id}", "round_trip"),
    "unknown_agent_accepted": ("POST /v1/batch-call", "unknown_reference_refused"),
    "agent_filter_ignored": ("GET /v1/batch-calls", "list_filter"),
    "oldest_first": ("GET /v1/batch-calls", "sort_order"),
    "total_is_page_size": ("GET /v1/batch-calls", "pagination_consistent"),
    "unknown_batch_detail_404": ("GET /v1/batch-calls/{batch_id}", "unknown_id_404"),
    "unknown_metrics_zeros": ("GET /v1/batch-calls/{batch_id}/metrics", "unknown_id_404"),
    "created_at_local_time": ("POST /v1/batch-call", "timestamps_units"),
    "ratelimit_header_text": ("GET /v1/batch-calls/{batch_id}", "response_headers_conformance"),
}
CAUGHT_BY = {"portkey": PORTKEY, "formant": FORMANT}
# a bug -> words its finding must say (the message names what is wrong)
SAYS = {"total_is_page_size": "a wrong total", "created_at_ms": "milliseconds", "created_at_local_time": "after the answer's Date header",
        "ratelimit_header_text": "X-RateLimit-Remaining"}


class Served:
    """One server of a test module, at its base URL; ``run`` switches its planted classes, then runs the kit."""

    def __init__(self, provider: str, server: Any, url: str) -> None:
        self.provider, self.server, self.url = provider, server, url

    def run(self, options: Options, *bugs: str) -> Report:
        self.server.reset(*bugs)
        return run_contract(self.provider, base_url=self.url, api_key=KEY, allow_writes=True, environ={}, options=options)


# a probe's finding, a list walk's, a ledger check's and an answer check's: replayed against the faithful server too
FIXED_REPLAY = {"deleted_still_readable", "order_param_ignored", "output_missing_line", "canceled_spelling", "total_is_page_size",
                "unknown_batch_detail_404", "header_row_counted"}
# the planted class whose generated script each test file runs (a ledger check's finding; a list walk's)
SCRIPTED = {"portkey": "output_missing_line", "formant": "total_is_page_size"}


def faithful(served: Served, seed: int) -> None:
    # the coverage phase (every schema boundary, undeclared methods) once; generated cases of every seed
    phases = ("coverage", "fuzzing") if seed == 0 else ("fuzzing",)
    report = served.run(Options(phases=phases, max_examples=3, seed=seed, flows=2, poll_interval=0.05, poll_timeout=5,
                                shrink=False))
    assert report.ok, report.summary()
    checks = {check for _, check in report.outcomes}
    assert {"round_trip", "unknown_id_404", "unknown_reference_refused", "list_filter", "sort_order", "timestamps_units"} <= checks
    assert all(done for _, done, _ in report.cleanup), report.cleanup
    if served.provider == "portkey":
        assert {"deleted_gone", "output_matches_file", "mutation_answer_state"} <= checks
        # the write promise: whatever the run created (generated cases too) was cancelled or deleted
        gateway = served.server
        assert all(f.deleted for f in gateway.files.values() if f.purpose != "batch_output")
        assert all(gateway._state(b, b.created + 3600)[0] in ("cancelled", "completed", "failed") for b in gateway.batches.values())
        undone = [what for what, done, _ in report.cleanup if "generated case" in what]
        assert all(any(what in created for created in report.created) for what in undone)


def planted(served: Served, bug: str, tmp_path: Path) -> None:
    report = served.run(FLOWS, bug)
    expected = CAUGHT_BY[served.provider][bug]
    assert expected in report.failing(), report.summary()
    if bug in SAYS:
        assert any(SAYS[bug] in f.title + f.message for f in report.outcomes[expected].findings), report.summary()
    saved = save_findings(report, tmp_path, get_profile(served.provider))
    findings = [finding for path in saved for finding in load_findings(path)]
    assert {(f["operation"], f["check"]) for f in findings} == report.failing()  # every finding is saved
    replayed = served.run(Options(phases=(), replay=tuple(findings), poll_interval=0.05, poll_timeout=5), bug)
    assert {(f["operation"], f["check"]) for f in findings} <= replayed.failing(), replayed.summary()
    if bug in FIXED_REPLAY:  # and once the bug is gone, the same findings replay clean
        assert served.run(Options(phases=(), replay=tuple(findings), poll_interval=0.05, poll_timeout=5)).ok


def script_exits_1(served: Served, bug: str, tmp_path: Path) -> None:
    report = served.run(FLOWS, bug)
    saved = save_findings(report, tmp_path, get_profile(served.provider))
    path = next(p for p in saved if json.loads(p.read_text())["check"] == CAUGHT_BY[served.provider][bug][1])
    script = path.with_suffix(".py")
    assert KEY not in script.read_text() and KEY not in path.read_text()
    env = {**os.environ, get_profile(served.provider).key_env[0]: KEY, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}

    def run_script() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(script), served.url], capture_output=True, text=True, timeout=120, env=env)

    served.server.reset(bug)
    buggy = run_script()
    assert buggy.returncode == 1, buggy.stdout[-3000:] + buggy.stderr[-3000:]
    assert CAUGHT_BY[served.provider][bug][1] in buggy.stdout
    served.server.reset()
    fixed = run_script()
    assert fixed.returncode == 0, fixed.stdout[-3000:] + fixed.stderr[-3000:]


def generated_findings_replay(served: Served, bug: str, tmp_path: Path) -> set[tuple[str, str]]:
    """A bug found by schemathesis' generated cases: its findings are saved too, and replay (and fail again)."""
    options = Options(phases=("fuzzing",), max_examples=3, flows=0, poll_interval=0.05, poll_timeout=5, shrink=False)
    report = served.run(options, bug)
    assert not report.ok, report.summary()
    saved = save_findings(report, tmp_path, get_profile(served.provider))
    findings = [finding for path in saved for finding in load_findings(path)]
    assert {(f["operation"], f["check"]) for f in findings} == report.failing()  # every finding is saved
    replayed = served.run(Options(phases=(), replay=tuple(findings), poll_interval=0.05, poll_timeout=5), bug)
    assert report.failing() <= replayed.failing(), replayed.summary()
    assert served.run(Options(phases=(), replay=tuple(findings), poll_interval=0.05, poll_timeout=5)).ok
    return report.failing()
