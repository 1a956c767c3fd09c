"""`--state` / `MOCKSERVER_STATE` and `--workers`, as a user types them."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.cli import build_parser, main


def test_workers_without_a_shared_state_are_refused_with_the_fix(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOCKSERVER_STATE", raising=False)
    assert main(["serve", "--workers", "2", "--port", "0"]) == 2
    message = capsys.readouterr().err
    assert "--workers 2 needs a shared state" in message and "--state ./state.db" in message


def test_zero_workers_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["serve", "--workers", "0", "--state", str(tmp_path / "s.db")]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err


def test_the_state_comes_from_the_environment_unless_the_flag_says_otherwise(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MOCKSERVER_STATE", str(tmp_path / "env.db"))
    assert build_parser().parse_args(["serve"]).state == str(tmp_path / "env.db")
    assert build_parser().parse_args(["serve", "--state", "other.db"]).state == "other.db"


def test_a_state_that_cannot_be_opened_stops_the_server_with_a_message(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["serve", "--state", str(tmp_path / "no" / "such" / "dir.db"), "--port", "0"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["serve", "--state", "postgresql://nobody@127.0.0.1:1/none", "--port", "0"]) == 2
    assert "cannot connect" in capsys.readouterr().err
