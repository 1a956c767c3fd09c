"""The command line as a mature tool: --version, one-line errors, the banner only once the port is bound, one log
format for every logger (text or JSON lines), the access log on request, settings from MOCKSERVER_* variables,
--specs-dir, and a contract run that survives Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

import mockserver
from mockserver.contract.report import AUTH_HINT
from mockserver.contract.runner import Options, run_contract
from mockserver.core.settings import Settings
from mockserver.server.live import LiveServer, free_port
from tests.processes import wait_until_serving

REPO = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    return {**env, **extra}


def _cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mockserver", *args], capture_output=True, text=True, timeout=timeout, env=env or _env())


@contextmanager
def _serving(*args: str, env: dict[str, str] | None = None, banner: bool = True) -> Iterator[tuple[str, subprocess.Popen[str], list[str]]]:
    """``mockserver serve --port 0 ...``: the URL is read from the banner, which must come once the port is bound
    (``banner=False``, for log levels above info that hide it: a free port chosen here)."""
    port = "0" if banner else str(free_port())
    proc = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--port", port, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env or _env())
    lines: list[str] = []
    try:
        url = None if banner else f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while url is None:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"no banner: {''.join(lines)}")
            lines.append(line)
            if "serving on http://" in line:
                url = line.split("serving on ", 1)[1].split()[0].rstrip('",\\n')
                # the banner is written after the bind: the port accepts connections already
                host, port = url.removeprefix("http://").rsplit(":", 1)
                socket.create_connection((host, int(port)), timeout=5).close()
            assert time.monotonic() < deadline
        wait_until_serving(url, proc, timeout=30)  # connections are queued from the bind on; answered once uvicorn runs
        yield url, proc, lines
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        assert proc.stdout is not None
        lines.extend(proc.stdout.read().splitlines(keepends=True))  # (communicate() would skip what readline buffered)


def test_version() -> None:
    done = _cli("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"mockserver {mockserver.__version__}"


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = _cli("serve", "--port", str(port), "--log-level", "warning")
    assert done.returncode == 2
    assert done.stderr.strip() == f"mockserver: cannot listen on 127.0.0.1:{port}: the port is in use (pick another with --port)"
    assert "serving on" not in done.stdout + done.stderr


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_a_port_out_of_range_is_one_line_and_exit_2(port: str) -> None:
    done = _cli("serve", "--port", port, "--log-level", "warning")
    assert done.returncode == 2
    assert done.stderr.strip() == f"mockserver: --port {port} is out of range: expected 0-65535 (0: any free port)"
    assert "Traceback" not in done.stderr


def test_a_missing_fixture_file_or_specs_dir_is_one_line() -> None:
    done = _cli("serve", "--fixtures", "no-such-file.yaml", "--log-level", "warning")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("mockserver: no-such-file.yaml")
    done = _cli("serve", "--specs-dir", "no-such-dir", "--log-level", "warning")
    assert done.returncode == 2 and done.stderr.strip() == "mockserver: --specs-dir no-such-dir: not a directory"


def test_json_logs_are_one_object_per_line_with_the_access_log() -> None:
    with _serving("--log-format", "json", "--access-log") as (url, _, lines):
        httpx.get(url + "/anyapi/v1/batches", headers={"Authorization": "Bearer k"})
        httpx.get(url + "/anyapi/v1/batches/batch_nope", headers={"Authorization": "Bearer k"})
    records = [json.loads(line) for line in lines if line.strip()]  # every line is JSON, uvicorn's included
    assert {"mockserver", "mockserver.access", "uvicorn.error"} <= {r["logger"] for r in records}
    access = [r for r in records if r["logger"] == "mockserver.access" and r["path"].startswith("/anyapi/")]
    assert [(r["method"], r["path"], r["status"], r["provider"], r["operation"]) for r in access] == [
        ("GET", "/anyapi/v1/batches", 200, "anyapi", "listBatches"),
        ("GET", "/anyapi/v1/batches/batch_nope", 404, "anyapi", "retrieveBatch"),
    ]
    for record in access:
        assert record["time"].endswith("Z") and isinstance(record["duration_ms"], float)


def test_the_access_log_is_off_by_default_and_the_log_level_governs_our_loggers() -> None:
    with _serving() as (url, _, lines):
        httpx.get(url + "/anyapi/v1/batches", headers={"Authorization": "Bearer k"})
    text = "".join(lines)
    assert "INFO mockserver: anyapi:" in text  # our own start-up lines, in the one text format
    assert "/anyapi/v1/batches" not in text.split("serving on", 1)[1].split("admin", 1)[1]
    with _serving("--log-level", "error", banner=False) as (url, proc, lines):
        httpx.get(url + "/anyapi/v1/batches", headers={"Authorization": "Bearer k"})
    assert not [line for line in lines if "INFO" in line]


def test_serve_settings_come_from_environment_variables() -> None:
    env = _env(MOCKSERVER_API_KEY="k1,k2", MOCKSERVER_SEED="5", MOCKSERVER_LOG_FORMAT="json")
    with _serving(env=env) as (url, _, lines):
        for key, status in (("k1", 200), ("k2", 200), ("k3", 401)):
            assert httpx.get(url + "/anyapi/v1/batches", headers={"Authorization": f"Bearer {key}"}).status_code == status
    assert json.loads(lines[0])["logger"] == "mockserver"
    done = _cli("serve", env=_env(MOCKSERVER_PORT="eighty"))
    assert done.returncode == 2 and done.stderr.strip() == "mockserver: MOCKSERVER_PORT='eighty': not a valid value for --port"


def test_specs_dir_serves_your_own_copy_of_the_specs(tmp_path: Path) -> None:
    mine = tmp_path / "specs"
    shutil.copytree(REPO / "specs", mine)
    anyapi = mine / "anyapi.yaml"
    anyapi.write_text(anyapi.read_text().replace("info:\n", "info:\n  x-my-copy: true\n", 1))
    with _serving("--specs-dir", str(mine)) as (url, _, _lines):
        assert httpx.get(url + "/_mock/specs/anyapi?format=json").json()["info"]["x-my-copy"] is True
    with _serving(env=_env(MOCKSERVER_SPECS_DIR=str(mine))) as (url, _, _lines):
        assert httpx.get(url + "/_mock/specs/anyapi?format=json").json()["info"]["x-my-copy"] is True
    done = _cli("specs", "check", "--specs-dir", str(mine))
    assert done.returncode == 0, done.stdout + done.stderr


def test_ctrl_c_during_contract_prints_what_ran_and_exits_130(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "mockserver", "contract", "--provider", "all", "--json", "out/all.json"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    assert proc.stderr is not None
    for line in proc.stderr:  # progress per operation while it runs
        if "anyapi: coverage" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in out + err
    assert "INTERRUPTED" in out and re.search(r"TOTAL INTERRUPTED: \d+ provider\(s\)", out), out
    assert "clean-up done" in out or "created: 0" not in out
    assert "interrupted (Ctrl-C); not run: formant, openai, phaseo, portkey, retell" in err
    report = json.loads((tmp_path / "out" / "all.json").read_text())
    reports = report if isinstance(report, list) else [report]  # one entry per provider that ran
    assert [(r["provider"], r["interrupted"]) for r in reports][-1] == ("anyapi", True)


def test_a_target_that_accepts_any_key_gets_the_hint_to_start_the_fake_with_api_key() -> None:
    with LiveServer(Settings()) as server:  # like `mockserver serve` without --api-key
        report = run_contract("anyapi", base_url=server.base_url("anyapi"), api_key="any",
                              options=Options(max_examples=2, phases=("coverage",), operations=("listBatches",), flows=0))
    assert "ignored_auth" in {check for _, check in report.failing()}
    assert AUTH_HINT in report.notes
    assert "mockserver serve --api-key KEY" in report.summary()
