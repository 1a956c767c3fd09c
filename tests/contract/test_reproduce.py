"""Findings reproduce: every step is saved (auth as a placeholder), the script runs, --replay fails the same way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver.cli import main
from mockserver.contract.mutants import serve
from mockserver.contract.runner import Options, run_contract
from tests.contract.foreign.server import ForeignBatches

KEY = "sk-replay-0123456789"
QUICK = ["--phases", "", "--poll-interval", "0.05", "--poll-timeout", "5", "--flows", "2"]


def _contract(url: str, *extra: str) -> int:
    return main(["contract", "--provider", "anyapi", "--base-url", url, "--api-key", KEY, "--allow-writes", *QUICK, *extra])


def test_a_saved_finding_replays_and_fails_the_same_way(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with serve(ForeignBatches(KEY, frozenset({"cancel_completed_flips"})).app()) as root:
        assert _contract(root + "/v1", "--save-findings", str(tmp_path)) == 1
    out = capsys.readouterr().out
    assert "reproduce: a script of" in out and KEY not in out
    findings = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("finding-*.json"))]
    refused = next(f for f in findings if f["check"] == "terminal_refuses_mutation")
    labels = [s["label"] for s in refused["steps"]]
    # every step of the flow, from the upload to the cancel of the finished batch
    assert labels[:2] == ["POST /files", "POST /batches"] and labels[-1] == "POST /batches/{batch_id}/cancel"
    assert "GET /batches/{batch_id}" in labels and "GET /files/{file_id}/content" in labels
    saved = next(p for p in tmp_path.glob("finding-*.json") if json.loads(p.read_text())["check"] == "terminal_refuses_mutation")
    script = saved.with_suffix(".py").read_text()
    assert "os.environ['ANYAPI_API_KEY']" in script and KEY not in script and KEY not in saved.read_text()

    # the same steps against a fresh server with the same bug: the same check fails; against the faithful one, none
    with serve(ForeignBatches(KEY, frozenset({"cancel_completed_flips"})).app()) as root:
        code = _contract(root + "/v1", "--replay", str(saved), "--json", str(tmp_path / "replay.json"))
        # and the script runs as it is, the key from the environment
        ran = subprocess.run([sys.executable, str(saved.with_suffix(".py")), root + "/v1"], capture_output=True, text=True,
                             timeout=60, env={**os.environ, "ANYAPI_API_KEY": KEY})
    replayed = json.loads((tmp_path / "replay.json").read_text())
    failed = {(r["operation"], r["check"]) for r in replayed["results"] if r["status"] == "failed"}
    assert code == 1 and ("POST /batches/{batch_id}/cancel", "terminal_refuses_mutation") in failed
    # the script judges its own answers with the kit's checks: exit 1, the bug is still there
    assert ran.returncode == 1, ran.stdout + ran.stderr
    cancels = [line for line in ran.stdout.splitlines() if "/cancel ->" in line]
    assert cancels[-1].split(" -> ")[1].startswith("200")  # the cancel of a completed batch
    assert "terminal_refuses_mutation" in ran.stdout
    with serve(ForeignBatches(KEY).app()) as root:
        assert _contract(root + "/v1", "--replay", str(saved)) == 0
    assert "PASSED" in capsys.readouterr().out


def test_replaying_writes_needs_allow_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    finding = {"provider": "anyapi", "operation": "POST /files", "check": "x", "title": "t",
               "steps": [{"operation_id": "createFile", "label": "POST /files", "method": "POST", "path": "/files",
                          "path_params": {}, "status": 500, "at": 0}]}
    (tmp_path / "f.json").write_text(json.dumps(finding))
    code = main(["contract", "--provider", "anyapi", "--base-url", "http://127.0.0.1:9/v1", "--api-key", KEY,
                 "--replay", str(tmp_path / "f.json")])
    assert code == 2 and "--allow-writes" in capsys.readouterr().err


def test_messages_state_real_durations_and_operation_limits_every_phase() -> None:
    # a batch that stays validating while polled, and a cancel that does not find it
    server = ForeignBatches(KEY, frozenset({"cancel_404_after_read"}), validating_seconds=30)
    with serve(server.app()) as root:
        report = run_contract("anyapi", base_url=root + "/v1", api_key=KEY, allow_writes=True, environ={},
                              options=Options(phases=(), flows=1, poll_interval=0.05, poll_timeout=0.3))
        note = next(n for n in report.notes if "still 'validating'" in n)
        assert "read(s) in 0." in note and "limit 0.3s" in note  # what really happened, not the limit alone
        limited = run_contract("anyapi", base_url=root + "/v1", api_key=KEY, allow_writes=True, environ={},
                               options=Options(phases=("fuzzing",), max_examples=2, operations=("listBatches",),
                                               poll_interval=0.05, poll_timeout=0.3))
    assert limited.requests_by_method.keys() == {"GET"}, limited.requests_by_method
    assert {op for op, _ in limited.outcomes} <= {"GET /batches", "(run)"}
    assert any("--operation" in n for n in limited.notes)
