from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mockserver.contract.api import Exchange
from mockserver.contract.drift import SpecShapes, compare, load_drift_baseline, run_drift, update_baseline
from mockserver.contract.mutants import CATALOGUE, Mutant, ObjectFault, mutant_server
from mockserver.contract.profiles import get_profile
from mockserver.spec.loader import specs_dir

KEY = "sk-drift-tests-7"


def shapes(name: str = "anyapi") -> SpecShapes:
    return SpecShapes(yaml.safe_load((specs_dir() / f"{name}.yaml").read_text()))


def ex(status: int, body: object) -> Exchange:
    return Exchange("retrieveBatch", "GET /batches/{batch_id}", status, body, {}, "")


def test_compare_normalises_what_is_volatile() -> None:
    a = {"id": "batch_1", "object": "batch", "status": "validating", "created_at": 1, "request_counts": {"total": 0}}
    b = {"id": "batch_2", "object": "batch", "status": "validating", "created_at": 9, "request_counts": {"total": 0}}
    assert compare("s", "retrieveBatch", ex(200, a), ex(200, b), shapes()) == []


def test_compare_reports_status_type_value_and_fields() -> None:
    a = {"id": "b", "object": "batch", "status": "validating", "created_at": 1, "metadata": None}
    b = {"id": "b", "object": "batch", "status": "in_progress", "created_at": "1", "endpoint": "/v1/x", "x_surprise": 1}
    kinds = {(d.kind, d.path, d.severity) for d in compare("s", "retrieveBatch", ex(200, a), ex(200, b), shapes())}
    assert ("value", "status", "error") in kinds and ("type", "created_at", "error") in kinds
    assert ("extra_field", "endpoint", "error") in kinds and ("undeclared_field", "x_surprise", "warning") in kinds
    assert [d.kind for d in compare("s", "retrieveBatch", ex(200, a), ex(404, {}), shapes())] == ["status"]


def test_declared_follows_refs_and_items() -> None:
    spec = shapes("phaseo")
    schema = spec.response_schema("listBatches", 200)
    assert spec.declared(schema, "data[].billing.cost_usd") and not spec.declared(schema, "data[].billing.surprise")


def test_the_baseline_accepts_known_drift(tmp_path: Path) -> None:
    mutant = next(m for m in CATALOGUE if m.name == "wrong_type")
    with mutant_server("anyapi", KEY, mutant, clock_speed=0.0) as url:
        drift = run_drift("anyapi", url, KEY, allow_writes=True, environ={}, fake_clock_speed=0.0)
        assert drift.exit_code == 1 and any(d.kind == "type" and d.path == "created_at" for d in drift.new)
        baseline = tmp_path / "anyapi.json"
        update_baseline(baseline, drift)
        assert ("flow 3 retrieveBatch", "type", "created_at") in load_drift_baseline(baseline)
        again = run_drift("anyapi", url, KEY, allow_writes=True, environ={}, baseline=baseline, fake_clock_speed=0.0)
    assert again.exit_code == 0 and again.differences and all(d.known for d in again.differences)
    assert "accepted" in again.markdown() and json.loads(baseline.read_text())["contract"] == []


def test_undeclared_fields_are_warnings_only() -> None:
    surprise = Mutant("surprise", "an undeclared field", (), lambda p, k: ObjectFault(get_profile("anyapi").resource("batch"),
                                                                                        lambda o, n: o.__setitem__("x_surprise", 1)))
    with mutant_server("anyapi", KEY, surprise, clock_speed=0.0) as url:
        drift = run_drift("anyapi", url, KEY, allow_writes=True, environ={}, fake_clock_speed=0.0)
    assert drift.exit_code == 0
    assert {d.kind for d in drift.differences} == {"undeclared_field"} and KEY not in drift.markdown() + json.dumps(drift.as_dict())


def test_record_a_cassette_then_compare_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mockserver.cli import main
    from mockserver.core.settings import Settings
    from mockserver.server.live import LiveServer

    # "the real provider": a second fake, with its own key and a clock that runs
    with LiveServer(Settings(api_keys={"retell": (KEY,)}, clock_speed=20.0)) as second:
        code = main(["drift", "--provider", "retell", "--base-url", second.base_url("retell"), "--api-key", KEY,
                     "--allow-writes", "--record", str(tmp_path)])
    assert code == 0 and "recorded" in capsys.readouterr().out
    stored = (tmp_path / "retell.json").read_text()
    data = json.loads(stored)
    assert data["writes"] and len(data["steps"]) > 6 and {s["status"] for s in data["steps"]} >= {200, 401}
    assert KEY not in stored and "opening hours" not in stored  # no key, no prompt content
    # offline: the fake against the cassette (no target URL at all)
    code = main(["drift", "--provider", "retell", "--cassette", str(tmp_path), "--json", str(tmp_path / "d.json")])
    report = json.loads((tmp_path / "d.json").read_text())
    assert code == 0 and report["steps"] and not [d for d in report["differences"] if d["severity"] == "error"], report
    # a provider that changed: the recorded answer of the create now has another status, and the type of a field
    for step in data["steps"]:
        if step["operation_id"] == "createTestCaseDefinition":
            step["status"] = 400
        if step["operation_id"] == "listBatchTests" and isinstance(step["body"], dict):
            step["body"]["has_more"] = "no"
    (tmp_path / "retell.json").write_text(json.dumps(data))
    assert main(["drift", "--provider", "retell", "--cassette", str(tmp_path), "--json", str(tmp_path / "d.json")]) == 1
    kinds = {(d["kind"], d["path"]) for d in json.loads((tmp_path / "d.json").read_text())["differences"]}
    assert ("status", "$status") in kinds and ("type", "has_more") in kinds
