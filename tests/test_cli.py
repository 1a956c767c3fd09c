"""The README's first command: ``mockserver serve`` in a real process, reached over loopback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import serving


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    with serving("--api-key", "ci-key", "--seed", "4") as url:
        yield url


def test_serve_mounts_every_provider_and_the_admin_api(served: str) -> None:
    body = httpx.get(served + "/").json()
    for name in ("anyapi", "portkey", "phaseo"):
        assert body["providers"][name] == f"{served}/{name}/v1"
    assert httpx.get(served + "/_mock/clock").json()["now"] > 1_600_000_000


def test_serve_with_api_key_rejects_other_keys(served: str) -> None:
    assert httpx.get(served + "/anyapi/v1/batches", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert httpx.get(served + "/anyapi/v1/batches", headers={"Authorization": "Bearer ci-key"}).status_code == 200


def test_bad_config_file_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("durations:\n  validatin: 1\n")
    proc = subprocess.run([sys.executable, "-m", "mockserver", "serve", "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert str(config) in proc.stderr and "unknown key 'settings.durations.validatin'" in proc.stderr
