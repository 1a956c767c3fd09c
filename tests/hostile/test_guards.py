"""The guards of issue 12 one by one, in-process: admin token, poisoned input files, quotas, row limits, short
error excerpts, the body read timeout, and the settings and flags that configure them."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import httpx
import pytest
from starlette.routing import Mount
from starlette.testclient import TestClient

from mockserver.cli import _settings, build_parser
from mockserver.config.settings import load_settings
from mockserver.core.settings import ConfigError, Limits, Settings, Timeouts
from mockserver.server.admin import OPEN_PATHS
from mockserver.server.app import create_app
from mockserver.server.serving import exposure_warning, is_loopback
from tests.conftest import jsonl

BEARER = {"Authorization": "Bearer k"}


def portkey(key: str) -> dict[str, str]:
    return {"x-portkey-api-key": key, "x-portkey-provider": "openai"}


def client(**settings: Any) -> TestClient:
    return TestClient(create_app(Settings(response_validation="strict", clock_speed=0.0, **settings)))


# -- admin token ------------------------------------------------------------------------------------


def _admin_routes(app: Any) -> list[tuple[str, str]]:
    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/_mock")
    router = mount.app.app  # AdminGuard -> Atomic (the state's transactions) -> Router
    while not hasattr(router, "routes"):
        router = router.app
    found = []
    for route in router.routes:
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((method, "/_mock" + route.path.replace("{name}", "x").replace("{fault_id}", "fault_1")))
    return found


def test_with_an_admin_token_no_admin_endpoint_answers_without_it() -> None:
    c = client(admin_token="s3cret")
    routes = _admin_routes(c.app)
    assert len(routes) >= 15
    for method, path in routes:
        if path.removeprefix("/_mock") in OPEN_PATHS:
            assert c.request(method, path).status_code != 401, (method, path)  # health, and the dashboard's page: no data
            continue
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}, {"Authorization": "Basic s3cret"}):
            response = c.request(method, path, headers=headers)
            assert response.status_code == 401, (method, path, headers)
            assert response.json()["error"]["type"] == "unauthorized"
            assert response.headers["www-authenticate"].startswith("Bearer")
        ok = c.request(method, path, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code != 401, (method, path)
    assert c.get("/_mock/no-such-endpoint").status_code == 401  # unknown admin paths are not probed either


def test_health_stays_open_and_providers_are_not_affected_by_the_admin_token() -> None:
    c = client(admin_token="s3cret")
    assert c.get("/_mock/health").status_code != 401
    assert c.get("/anyapi/v1/batches", headers=BEARER).status_code == 200
    assert c.post("/_mock/reset", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_without_a_token_the_admin_api_is_open_as_before() -> None:
    assert client().post("/_mock/reset").status_code == 200


def test_admin_bodies_are_bounded_and_hostile_ones_are_4xx() -> None:
    c = client()
    assert c.post("/_mock/faults", content=b"[" * 50_000, headers={"Content-Type": "application/json"}).status_code == 400
    assert c.post("/_mock/faults", content=b'{"provider": "anyapi", "status": 500, "message": "\\ud800"}').status_code == 400
    assert c.post("/_mock/clock/advance", content=b'{"seconds": 1, "x": "' + b"y" * (5 * 1024 * 1024) + b'"}').status_code == 413
    assert c.post("/_mock/scenarios", content=b'{"name": "\\udfff", "outcomes": {}}').status_code in (400, 422)
    assert c.get("/_mock/scenarios").status_code == 200
    assert c.get("/_mock/faults").status_code == 200


def test_harness_admin_headers_carry_the_token() -> None:
    from mockserver.testing.harness import Harness

    app = create_app(Settings(admin_token="t0k"))
    harness = Harness(app.state.engine, app.state.providers, app=app)
    assert harness.admin_headers == {"Authorization": "Bearer t0k"}
    assert TestClient(app).get("/_mock/clock", headers=harness.admin_headers).status_code == 200


# -- nothing stored poisons a namespace --------------------------------------------------------------


def test_a_jsonl_line_with_a_lone_surrogate_fails_validation_and_the_key_keeps_working() -> None:
    c = client()
    bad = b'{"custom_id": "a\\ud800", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m", "messages": []}}\n'
    deep = b'{"custom_id": "b", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m", "x": ' + b"[" * 200 + b"]" * 200 + b"}}\n"
    for content in (bad, deep):
        file = c.post("/anyapi/v1/files", headers=BEARER, data={"purpose": "batch"}, files={"file": ("in.jsonl", content)})
        assert file.status_code == 200
        batch = c.post("/anyapi/v1/batches", headers=BEARER, json={"input_file_id": file.json()["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"})
        assert batch.status_code == 200
        c.post("/_mock/clock/advance", json={"seconds": 10})
        got = c.get(f"/anyapi/v1/batches/{batch.json()['id']}", headers=BEARER).json()
        assert got["status"] == "failed"
        assert c.get("/anyapi/v1/batches", headers=BEARER).status_code == 200
    assert c.get("/_mock/batches").status_code == 200


def test_phaseo_metadata_with_a_lone_surrogate_is_a_400_naming_the_field_and_nothing_is_stored() -> None:
    c = client()
    file = c.post("/phaseo/v1/files", headers=BEARER, data={"purpose": "batch"}, files={"file": ("in.jsonl", jsonl(1))}).json()
    body = '{"input_file_id": "' + file["id"] + '", "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": {"tag": "\\ud800"}}'
    response = c.post("/phaseo/v1/batches", headers={**BEARER, "Content-Type": "application/json"}, content=body.encode())
    assert response.status_code == 400
    assert "metadata.tag" in response.json()["description"]
    listed = c.get("/phaseo/v1/batches", headers=BEARER)
    assert listed.status_code == 200 and listed.json()["data"] == []


def test_an_error_quotes_only_an_excerpt_of_a_huge_value() -> None:
    c = client()
    huge = "w" * 2_000_000
    response = c.post("/anyapi/v1/batches", headers=BEARER, json={"input_file_id": "f", "endpoint": "/v1/chat/completions", "completion_window": huge})
    assert response.status_code == 400
    assert len(response.content) < 2048
    assert "2000000 characters" in response.json()["error"]["message"]


# -- quotas and limits -------------------------------------------------------------------------------


def test_storage_quota_per_key_and_per_server() -> None:
    c = client(limits=Limits(namespace_quota_bytes=3000, server_quota_bytes=4500))
    content = jsonl(12)[:1200]  # bytes; the file is not validated until a batch uses it

    def up(key: str) -> httpx.Response:
        return c.post("/portkey/v1/files", headers=portkey(key), data={"purpose": "batch"}, files={"file": ("a.jsonl", content)})

    first = up("a")
    assert first.status_code == 200 and up("a").status_code == 200
    refused = up("a")
    assert refused.status_code == 413
    assert refused.json()["provider"] == "openai" and "per key" in refused.json()["error"]["message"]
    assert up("b").status_code == 200  # the server now keeps 3600 of 4500 bytes
    server_full = up("c")
    assert server_full.status_code == 413 and "mock server stores" in server_full.json()["error"]["message"]
    assert c.get("/portkey/v1/batches", headers=portkey("c")).status_code == 200  # reads still work at the quota
    assert c.delete(f"/portkey/v1/files/{first.json()['id']}", headers=portkey("a")).status_code == 200
    assert up("c").status_code == 200  # deleting frees the space
    c.post("/_mock/reset")
    assert up("a").status_code == 200


def test_the_multipart_upload_limit_is_enforced_while_streaming() -> None:
    c = client(limits=Limits(max_file_bytes=100_000))
    chunks = (b"x" * 65536 for _ in range(10))  # 640 KiB, sent chunked: no Content-Length to refuse up front
    body = b"--B\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jsonl\"\r\n\r\n"
    stream = iter([body, *chunks, b"\r\n--B--\r\n"])
    response = c.post("/anyapi/v1/files", headers={**BEARER, "Content-Type": "multipart/form-data; boundary=B"}, content=stream)
    assert response.status_code == 413
    assert "limit is 165536 bytes" in response.json()["error"]["message"]
    assert response.headers["connection"] == "close"


def test_formant_csv_row_limit_and_agent_id_bound() -> None:
    c = client(limits=Limits(max_csv_rows=5))
    rows = b"customer_phone\n" + b"+919876543210\n" * 6
    response = c.post("/formant/v1/batch-call", headers=BEARER, data={"agent_id": "1", "name": "n"}, files={"file": ("c.csv", rows)})
    assert response.status_code == 400 and "more than 5 data rows" in response.json()["error"]["message"]
    ok = c.post("/formant/v1/batch-call", headers=BEARER, data={"agent_id": str(2**63 - 1), "name": "n"}, files={"file": ("c.csv", rows[:-14])})
    assert ok.status_code == 200
    too_big = c.post("/formant/v1/batch-call", headers=BEARER, data={"agent_id": str(2**63), "name": "n"}, files={"file": ("c.csv", rows[:-14])})
    assert too_big.status_code == 400 and too_big.json()["error"]["type"] == "invalid_request"


def test_retell_runs_share_one_snapshot_per_definition() -> None:
    c = client()
    definition = {"name": "n", "response_engine": {"type": "retell-llm", "llm_id": "l"}, "user_prompt": "p" * 100_000, "metrics": []}
    created = c.post("/retell/create-test-case-definition", headers=BEARER, json=definition).json()
    batch = c.post("/retell/create-batch-test", headers=BEARER,
                   json={"response_engine": {"type": "retell-llm", "llm_id": "l"}, "test_case_definition_ids": [created["test_case_definition_id"]] * 1000})
    assert batch.status_code == 201
    backend = c.app.state.engine.backend("retell", "k")
    assert backend.stored_bytes() < 500_000  # one 100 KB snapshot for 1000 runs, not 100 MB


# -- the body read timeout ------------------------------------------------------------------------------


def test_a_stalled_body_gets_a_408_in_the_envelope() -> None:
    # driven by asyncio.run, webhook dispatcher on: its task must end with the loop, not keep the shutdown waiting
    app = create_app(Settings(timeouts=Timeouts(body_read=0.2)))
    sent: list[dict[str, Any]] = []
    first = True

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b'{"input_file_id": ', "more_body": True}
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/retell/create-test-case-definition", "raw_path": b"/retell/create-test-case-definition",
             "query_string": b"", "headers": [(b"authorization", b"Bearer k"), (b"content-type", b"application/json")],
             "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1), "root_path": ""}
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 5))
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["status"] == "error"


# -- configuration ---------------------------------------------------------------------------------


def test_config_file_sets_limits_timeouts_and_the_admin_token(tmp_path: Any) -> None:
    path = tmp_path / "mock.yaml"
    path.write_text("admin_token: t\nlimits:\n  max_json_body_bytes: 1000\n  max_csv_rows: 7\ntimeouts:\n  header_read: 2\n  graceful_shutdown: 0.5\n")
    settings = load_settings(path)
    assert settings.admin_token == "t" and settings.limits.max_json_body_bytes == 1000 and settings.limits.max_csv_rows == 7
    assert settings.timeouts.header_read == 2.0 and settings.timeouts.graceful_shutdown == 0.5
    path.write_text("timeouts:\n  body_read: 0\n")
    with pytest.raises(ConfigError, match="timeouts.body_read"):
        load_settings(path)
    path.write_text("timeouts:\n  read: 1\n")
    with pytest.raises(ConfigError, match="unknown key 'settings.timeouts.read'"):
        load_settings(path)


def test_cli_flags_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    args = build_parser().parse_args(["serve", "--admin-token", "abc", "--max-body-bytes", "2048", "--header-timeout", "3",
                                      "--body-timeout", "4", "--keep-alive", "2", "--shutdown-grace", "1.5"])
    settings = _settings(args)
    assert settings.admin_token == "abc" and settings.limits.max_json_body_bytes == 2048
    assert (settings.timeouts.header_read, settings.timeouts.body_read, settings.timeouts.keep_alive, settings.timeouts.graceful_shutdown) == (3, 4, 2, 1.5)
    monkeypatch.setenv("MOCKSERVER_ADMIN_TOKEN", "from-env")
    assert _settings(build_parser().parse_args(["serve"])).admin_token == "from-env"


def test_binding_beyond_loopback_without_a_token_warns_loudly() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    warning = exposure_warning(Settings(), "0.0.0.0")
    assert warning is not None and "WARNING" in warning and "--admin-token" in warning
    assert exposure_warning(Settings(admin_token="t"), "0.0.0.0") is None
    assert exposure_warning(Settings(), "127.0.0.1") is None


def test_the_readme_configuration_example_loads_with_the_documented_defaults(tmp_path: Any) -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = readme[readme.index("## Configuration"):].split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "mock.yaml").write_text(block)
    settings = load_settings(tmp_path / "mock.yaml")
    assert settings.limits == Limits() and settings.timeouts == Timeouts() and settings.admin_token is None


def test_serve_hands_the_timeouts_to_uvicorn_and_warns_on_an_open_bind(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from mockserver import cli

    seen: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: seen.update(kwargs))  # nothing is bound
    monkeypatch.delenv("MOCKSERVER_ADMIN_TOKEN", raising=False)
    assert cli.main(["serve", "--host", "0.0.0.0", "--keep-alive", "2", "--shutdown-grace", "3", "--header-timeout", "4"]) == 0
    assert seen["timeout_keep_alive"] == 2 and seen["timeout_graceful_shutdown"] == 3 and seen["http"].__name__.startswith("HeaderTimeout") and os.environ["MOCKSERVER_HEADER_TIMEOUT"] == "4.0"
    assert seen["limit_concurrency"] == 1000 and seen["h11_max_incomplete_event_size"] == 65536
    assert "WARNING" in capsys.readouterr().err
    assert cli.main(["serve", "--host", "0.0.0.0", "--admin-token", "t"]) == 0
    assert "WARNING" not in capsys.readouterr().err


pytest_plugins = ["pytester"]


def test_the_pytest_plugin_protects_the_admin_api_and_its_fixture_carries_the_token(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx

        def test_admin(mock_server):
            assert mock_server.admin_headers == {"Authorization": "Bearer plug-tok"}
            assert httpx.post(mock_server.url + "/_mock/reset").status_code == 401
            assert httpx.post(mock_server.url + "/_mock/reset", headers=mock_server.admin_headers).status_code == 200
            mock_server.reset()  # the harness itself needs no HTTP
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "--mockserver-admin-token", "plug-tok").assert_outcomes(passed=1)
