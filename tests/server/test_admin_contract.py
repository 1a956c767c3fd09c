"""GET /_mock/health for health checks, and GET /_mock/specs/{provider}: the spec the fake is built from."""

from __future__ import annotations

from pathlib import Path

import yaml
from starlette.testclient import TestClient

import mockserver
from mockserver.server.app import create_app
from mockserver.spec.loader import specs_dir

PROVIDERS = ("anyapi", "portkey", "phaseo", "retell", "formant", "openai", "anthropic")


def test_health_answers_ok_with_the_version() -> None:
    body = TestClient(create_app()).get("/_mock/health").json()
    assert body == {"status": "ok", "version": mockserver.__version__, "providers": list(PROVIDERS)}


def test_each_providers_spec_is_served_as_vendored_yaml_or_as_json() -> None:
    client = TestClient(create_app())
    for name in PROVIDERS:
        vendored = (Path(specs_dir()) / f"{name}.yaml").read_bytes()
        response = client.get(f"/_mock/specs/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/yaml")
        assert response.content == vendored
        as_json = client.get(f"/_mock/specs/{name}", params={"format": "json"})
        assert as_json.headers["content-type"] == "application/json"
        assert as_json.json() == yaml.safe_load(response.text)


def test_an_unknown_provider_or_format_is_a_clear_error() -> None:
    client = TestClient(create_app())
    missing = client.get("/_mock/specs/gemini")
    assert missing.status_code == 404 and "providers: anyapi, portkey" in missing.json()["error"]["message"]
    bad = client.get("/_mock/specs/anyapi", params={"format": "xml"})
    assert bad.status_code == 400 and bad.json()["error"]["message"] == "format: expected yaml or json, got 'xml'"
