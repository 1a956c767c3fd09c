"""What a recording adds up to besides the cassette: the fixtures file and the drift report.

``fixtures.yaml`` holds what the provider's recorder (``Provider.recorder``) makes of the answers seen, in the
format ``mockserver serve --fixtures`` loads; it is checked by loading it into a scratch engine, and a fixture the
fake would refuse is left out and named in the report. ``drift.md`` / ``drift.json`` list every exchange whose
answer the vendored spec does not allow (status, headers, body), and every upstream failure: real traffic telling
where the spec (or the fake built on it) is wrong. Each is rewritten whole when what it holds changes (another
fixture state, a finding) and once more when the proxy stops (the final counts); secrets are redacted in them as
in the cassette.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..config.documents import DocumentError
from ..config.fixtures import Fixture, check_fixtures
from ..core.engine import Engine
from ..core.settings import Settings
from ..providers.base import FixtureRecorder, Observed, Provider
from ..server.cassette import Redactor
from ..spec.loader import Operation
from ..spec.validation import parse_json_body, response_problems

log = logging.getLogger("mockserver")


@dataclass
class Finding:
    seq: int
    method: str
    path: str
    operation: str | None
    status: int
    problems: list[str]
    upstream_error: str | None = None


@dataclass
class Book:
    provider: Provider
    out: Path
    redactor: Redactor
    upstream: str = ""
    exchanges: int = 0
    findings: list[Finding] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    recorder: FixtureRecorder | None = None
    _written: str | None = None

    def __post_init__(self) -> None:
        self.recorder = self.provider.recorder() if self.provider.recorder is not None else None
        self.fixtures_path = self.out / "fixtures.yaml"
        self.write()

    def check(self, operation: Operation | None, rest: str, method: str, status: int, headers: list[tuple[str, str]],
              body: bytes, upstream_error: str | None) -> list[str]:
        """What the spec says is wrong with this answer (nothing is checked of the proxy's own error answers)."""
        if upstream_error is not None and status in (0, 413, 502, 504):
            return []
        if operation is None:
            return [f"{method} {rest} is not an operation of the {self.provider.spec_name} spec"]
        problems = response_problems(operation, status, dict(headers), body)
        if status >= 500:
            problems = [f"the upstream answered {status}", *problems]
        return [self.redactor.scrub_text(p) for p in problems]

    def observe(self, operation_id: str, params: dict[str, str], status: int, request: bytes, content_type: str, answer: bytes) -> None:
        if self.recorder is None:
            return
        parsed: Any = None
        if request and content_type.split(";")[0].strip().lower() == "application/json":
            try:
                parsed = parse_json_body(request)
            except ValueError:
                parsed = None
        self.recorder.observe(Observed(operation_id, params, status, parsed, upload_part(request, content_type), answer))

    def note(self, seq: int, entry: dict[str, Any]) -> None:
        """Count an exchange; the files are rewritten when what they hold changed (a finding, another fixture
        state), and once more at the end (``write``), so an exchange that changes nothing costs no rewrite."""
        self.exchanges += 1
        found = bool(entry["problems"] or entry["upstream_error"])
        if found:
            request = entry["request"]
            self.findings.append(Finding(seq, request["method"], request["path"], entry["operation"], entry["response"]["status"],
                                         entry["problems"], entry["upstream_error"]))
            for problem in entry["problems"]:
                log.warning("record: drift in %s %s -> %s: %s", request["method"], request["path"], entry["response"]["status"], problem)
        self._write_fixtures()
        if found:
            self._write_report()

    # -- the files ------------------------------------------------------------------------------------------------

    def write(self) -> None:
        self._write_fixtures()
        self._write_report()

    def _write_report(self) -> None:
        report = self.report()
        (self.out / "drift.json").write_text(self.redactor.scrub_text(json.dumps(report, indent=2, ensure_ascii=False)) + "\n")
        (self.out / "drift.md").write_text(self.redactor.scrub_text(markdown(report)))

    def _fixtures(self) -> list[dict[str, Any]]:
        if self.recorder is None:
            return []
        fixtures = [{"provider": self.provider.name, "kind": kind, "data": self.redactor.redact_json(data)}
                    for kind, data in self.recorder.fixtures()]
        engine = Engine(Settings(), {self.provider.name: self.provider.make_backend})
        self.left_out = []
        try:
            check_fixtures([Fixture(i["provider"], i["kind"], i["data"]) for i in fixtures], engine)
            return fixtures
        except DocumentError:
            pass
        kept: list[dict[str, Any]] = []
        for item in fixtures:  # one by one, in order: a fixture the fake refuses is left out, the rest still load
            candidate = [Fixture(item["provider"], item["kind"], item["data"], origin=f"fixture {len(kept) + 1}") for item in [*kept, item]]
            try:
                check_fixtures(candidate, engine)
            except DocumentError as exc:
                self.left_out.append(f"{item['kind']} {item['data'].get('id', '?')}: {exc}")
                continue
            kept.append(item)
        return kept

    def _write_fixtures(self) -> None:
        seen = json.dumps(self.recorder.fixtures(), sort_keys=True, default=str) if self.recorder is not None else ""
        if seen == self._written and self.fixtures_path.exists():
            return  # nothing new to load: the file on disk is still what the recorder holds
        self._written = seen
        text = yaml.safe_dump({"fixtures": self._fixtures()}, sort_keys=False, allow_unicode=True, width=120)
        self.fixtures_path.write_text(self.redactor.scrub_text(text))

    def report(self) -> dict[str, Any]:
        return {
            "provider": self.provider.name, "spec": self.provider.spec_name, "upstream": self.upstream,
            "exchanges": self.exchanges, "ok": not self.findings,
            "findings": [f.__dict__ for f in self.findings],
            "fixtures": {"file": self.fixtures_path.name, "left_out": self.left_out,
                         "recorder": self.recorder is not None},
        }


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# Drift from real traffic: {report['provider']} ({report['upstream']})", "",
             f"{report['exchanges']} exchange(s) recorded against the vendored `{report['spec']}` spec: "
             f"**{len(report['findings'])} with a difference or an upstream failure**.", ""]
    if report["findings"]:
        lines += ["| seq | request | status | what |", "|---|---|---|---|"]
        for f in report["findings"]:
            what = "; ".join([*([f"upstream: {f['upstream_error']}"] if f["upstream_error"] else []), *f["problems"]])
            cell = what.replace("|", "\\|")[:300]
            lines.append(f"| {f['seq']} | {f['method']} {f['path']} | {f['status']} | {cell} |")
    else:
        lines.append("Every answer conforms to the spec.")
    fixtures = report["fixtures"]
    if not fixtures["recorder"]:
        lines += ["", f"> {report['provider']} has no fixture recorder: `fixtures.yaml` is empty; replay the cassette instead."]
    for item in fixtures["left_out"]:
        lines += ["", f"> left out of `fixtures.yaml` (the fake refuses it): {item}"]
    return "\n".join(lines) + "\n"


def upload_part(body: bytes, content_type: str) -> bytes | None:
    """The content of the ``file`` part of a multipart body (None if there is none)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type, re.I)
    if not match or not content_type.lower().startswith("multipart/form-data"):
        return None
    delimiter = b"--" + match.group(1).encode("latin-1")
    for part in body.split(delimiter)[1:]:
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        if re.search(rb'content-disposition:[^\r\n]*\bname="?file"?[;\s]', head + b"\r\n", re.I):
            return content[:-2] if content.endswith(b"\r\n") else content
    return None
