from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockserver.cli import main
from mockserver.contract import mutants
from mockserver.contract.runner import Options
from mockserver.server.live import LiveServer
from tests.contract.conftest import KEY


def test_contract_against_the_fake_writes_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["contract", "--provider", "formant", "--max-examples", "2", "--phases", "fuzzing",
                 "--junit", str(tmp_path / "r.xml"), "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    assert code == 0 and "PASSED" in out and "GET /v1/batch-calls/{batch_id}" in out and "created_readable" in out
    assert json.loads((tmp_path / "r.json").read_text())["ok"] and "<testsuite" in (tmp_path / "r.xml").read_text()


def test_contract_against_a_url(live: LiveServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYAPI_API_KEY", KEY)
    code = main(["contract", "--provider", "anyapi", "--base-url", live.base_url("anyapi"), "--max-examples", "2",
                 "--phases", "fuzzing", "--budget", "60", "--poll-interval", "0.01"])
    out = capsys.readouterr().out
    assert code == 0 and "(read-only)" in out and "of a budget of 60" in out and KEY not in out


def test_contract_exits_non_zero_on_a_failing_check(live: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["contract", "--provider", "anyapi", "--base-url", live.base_url("anyapi"), "--api-key", "sk-wrong",
                 "--phases", "", "--poll-interval", "0.01"])
    assert code == 1 and "FAILED" in capsys.readouterr().out


def test_contract_without_a_key_says_where_to_put_it(live: LiveServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RETELL_API_KEY", raising=False)
    assert main(["contract", "--provider", "retell", "--base-url", live.base_url("retell")]) == 2
    assert "RETELL_API_KEY" in capsys.readouterr().err


def test_mutants_print_the_score(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    picked = tuple(m for m in mutants.CATALOGUE if m.name in ("undocumented_status",))
    real = mutants.score

    def small(provider: str, *args: Any, **kwargs: Any) -> Any:
        return real(provider, picked, Options(max_examples=2, phases=("fuzzing",), poll_timeout=2, poll_interval=0.05, shrink=False))

    monkeypatch.setattr(mutants, "score", small)
    code = main(["contract", "--provider", "anyapi", "--mutants", "--json", str(tmp_path / "m.json")])
    out = capsys.readouterr().out
    assert code == 0 and "1 / 1 planted faults caught" in out
    assert json.loads((tmp_path / "m.json").read_text())[0]["caught"] == 1


def test_drift_and_specs_commands(live: LiveServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["specs", "check", "--json", str(tmp_path / "s.json")]) == 0
    assert json.loads((tmp_path / "s.json").read_text())["ok"]
    code = main(["drift", "--provider", "anyapi", "--base-url", live.base_url("anyapi"), "--api-key", KEY,
                 "--markdown", str(tmp_path / "d.md"), "--json", str(tmp_path / "d.json"), "--baseline", str(tmp_path / "none.json")])
    assert code == 0 and "# Drift: anyapi" in (tmp_path / "d.md").read_text() and json.loads((tmp_path / "d.json").read_text())["ok"]
