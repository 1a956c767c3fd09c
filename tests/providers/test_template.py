"""providers/_template/ stays a working provider to copy: served alone from its own spec, every file role present,
its jobs run, end and cancel; and nothing mounts it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mockserver.core.settings import Settings
from mockserver.providers import _template
from mockserver.providers.registry import PROVIDERS
from mockserver.server.app import create_app
from tests.test_architecture import OWN_BACKEND_FILES, PROVIDER_FILES

TEMPLATE = Path(_template.__file__).parent
KEY = {"Authorization": "Bearer sk-template"}


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    shutil.copy(TEMPLATE / "template.yaml", tmp_path / "template.yaml")
    monkeypatch.setenv("MOCKSERVER_SPECS_DIR", str(tmp_path))
    app = create_app(Settings(clock_speed=0, response_validation="strict"), providers={"template": _template.PROVIDER})
    return TestClient(app)


def test_the_template_has_every_file_role_and_is_not_mounted() -> None:
    assert [f for f in (*PROVIDER_FILES, *OWN_BACKEND_FILES, "CHECKLIST.md") if not (TEMPLATE / f).is_file()] == []
    assert _template.PROVIDER.name not in PROVIDERS and all(p.prefix != _template.PROVIDER.prefix for p in PROVIDERS.values())


def test_the_template_serves_its_jobs_from_its_spec(client: TestClient) -> None:
    created = client.post("/template/v1/jobs", headers=KEY, json={"name": "first"})
    assert created.status_code == 200 and created.json()["status"] == "queued"
    job_id = created.json()["id"]
    assert client.post("/_mock/clock/advance", json={"seconds": 10}).status_code == 200
    assert client.get(f"/template/v1/jobs/{job_id}", headers=KEY).json()["status"] == "succeeded"
    refused = client.post(f"/template/v1/jobs/{job_id}/cancel", headers=KEY)
    assert refused.status_code == 400 and refused.json()["error"]["type"] == "invalid_request"
    second = client.post("/template/v1/jobs", headers=KEY, json={"name": "second"}).json()["id"]
    assert client.post(f"/template/v1/jobs/{second}/cancel", headers=KEY).json()["status"] == "cancelled"
    listed = client.get("/template/v1/jobs", headers=KEY, params={"limit": 1}).json()
    assert [j["id"] for j in listed["data"]] == [second] and listed["has_more"] is True
    assert client.get(f"/template/v1/jobs/{job_id}", headers={"Authorization": "Bearer other"}).status_code == 404
    assert client.post("/template/v1/jobs", headers=KEY, json={}).status_code == 400
    assert list(client.app.state.engine.violations) == []  # type: ignore[attr-defined]
