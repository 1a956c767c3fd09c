from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from mockserver.contract.meter import Sanitizer
from mockserver.contract.report import Finding, Report, load_baseline, write_junit


def _report(**kwargs: object) -> Report:
    report = Report("anyapi", "http://127.0.0.1:1/anyapi/v1?key=sk-top-secret", "read-only", sanitize=Sanitizer(["sk-top-secret"]), **kwargs)  # type: ignore[arg-type]
    report.passed("GET /batches", "response_schema_conformance", 3)
    report.fail(Finding("GET /batches/{batch_id}", "legal_transitions", "went back", "completed -> in_progress",
                        example="curl -H 'Authorization: Bearer sk-top-secret' ..."))
    report.fail(Finding("GET /batches/{batch_id}", "legal_transitions", "went back", "completed -> in_progress"))
    return report


def test_failures_are_grouped_and_fail_the_run() -> None:
    report = _report()
    outcome = report.outcomes[("GET /batches/{batch_id}", "legal_transitions")]
    assert len(outcome.findings) == 1 and outcome.findings[0].count == 2
    assert not report.ok and report.exit_code == 1


def test_a_baselined_failure_is_reported_but_does_not_fail() -> None:
    report = _report(baseline={("GET /batches/{batch_id}", "legal_transitions")})
    assert report.ok and "KNOWN" in report.summary()


def test_the_summary_names_operation_and_check_and_hides_keys() -> None:
    text = _report().summary()
    assert "GET /batches/{batch_id}" in text and "legal_transitions" in text and "FAIL" in text
    assert "sk-top-secret" not in text


def test_json_and_junit_reports(tmp_path: Path) -> None:
    report = _report()
    report.write_json(tmp_path / "r.json")
    write_junit([report], tmp_path / "r.xml")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["ok"] is False and {r["check"] for r in data["results"]} == {"response_schema_conformance", "legal_transitions"}
    assert "sk-top-secret" not in (tmp_path / "r.json").read_text() + (tmp_path / "r.xml").read_text()
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    failing = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert [(c.get("classname"), c.get("name")) for c in failing] == [("anyapi.GET /batches/{batch_id}", "legal_transitions")]


def test_load_baseline(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"accepted": [{"operation": "GET /x", "check": "c", "why": "known"}]}))
    assert load_baseline(path) == {("GET /x", "c")}


def test_load_baseline_reads_every_format(tmp_path: Path) -> None:
    entry = [{"operation": "GET /x", "check": "c", "why": "known"}]
    for data in ({"contract": entry, "drift": []}, {"anyapi": entry, "portkey": []}):
        path = tmp_path / "b.json"
        path.write_text(json.dumps(data))
        assert load_baseline(path, "anyapi") == {("GET /x", "c")}
