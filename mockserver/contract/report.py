"""The outcome of a contract run: per operation and check, with a text summary, JSON and JUnit XML."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from .meter import Sanitizer

RUN = "(run)"  # the pseudo-operation for findings that belong to no single operation
# a fake started without --api-key accepts every non-empty key, so the kit's wrong-key checks fail against it
AUTH_HINT = ("the target accepted a missing or wrong key (ignored_auth): if it is a mockserver fake, start it with "
             "`mockserver serve --api-key KEY` and run the kit with the same --api-key (without --api-key the fake "
             "accepts any non-empty key)")


def write_text(path: str | Path, text: str) -> None:
    """Write a report file, creating its folder on demand (``--junit reports/contract.xml``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@dataclass
class Finding:
    operation: str
    check: str
    title: str
    message: str
    code: str = ""
    example: str = ""  # how to reproduce: a curl command or the request sequence
    phase: str = ""
    count: int = 1
    steps: list[dict[str, Any]] = field(default_factory=list)  # every request that led here (reproduce.py)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.operation, self.check, self.code or self.title, self.message.split("\n", 1)[0][:200])


@dataclass
class Outcome:
    operation: str
    check: str
    passed: int = 0
    findings: list[Finding] = field(default_factory=list)
    known: bool = False  # accepted in the baseline: reported, but does not fail the run

    @property
    def failed(self) -> bool:
        return bool(self.findings)


@dataclass
class Report:
    provider: str
    target: str
    mode: str  # "fake" | "read-only" | "writes"
    sanitize: Sanitizer = field(default_factory=Sanitizer)
    budget: int | None = None
    requests_sent: int = 0
    requests_by_method: dict[str, int] = field(default_factory=dict)
    waited_seconds: float = 0.0
    stopped_by_budget: bool = False
    started: float = field(default_factory=time.time)
    elapsed: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds spent per step
    outcomes: dict[tuple[str, str], Outcome] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    cleanup: list[tuple[str, bool, str]] = field(default_factory=list)  # (what, done, detail)
    baseline: set[tuple[str, str]] = field(default_factory=set)
    # while the kit handles one of its own answers: the steps that led to it (attached to findings made then)
    steps: Callable[[], list[dict[str, Any]]] | None = field(default=None, repr=False, compare=False)
    interrupted: bool = False  # stopped by Ctrl-C: what ran is reported, the rest did not run
    # called with one line per finished operation and phase while the run goes on (the CLI prints them)
    progress: Callable[[str], None] | None = field(default=None, repr=False, compare=False)

    # -- recording -------------------------------------------------------------------------------

    def outcome(self, operation: str, check: str) -> Outcome:
        key = (operation, check)
        if key not in self.outcomes:
            self.outcomes[key] = Outcome(operation, check, known=key in self.baseline)
        return self.outcomes[key]

    def passed(self, operation: str, check: str, count: int = 1) -> None:
        self.outcome(operation, check).passed += count

    def fail(self, finding: Finding) -> None:
        if not finding.steps and self.steps is not None:
            finding.steps = self.steps()
        if finding.check == "ignored_auth" and self.mode != "fake":
            self.note(AUTH_HINT)
        outcome = self.outcome(finding.operation, finding.check)
        for existing in outcome.findings:
            if existing.key == finding.key:
                existing.count += finding.count
                return
        outcome.findings.append(finding)

    def error(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def tell(self, message: str) -> None:
        """A progress line, for whoever watches the run."""
        if self.progress is not None:
            self.progress(self.sanitize(f"{self.provider}: {message}"))

    # -- verdict ---------------------------------------------------------------------------------

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes.values() if o.failed and not o.known]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors

    def failing(self) -> set[tuple[str, str]]:
        """(operation, check) pairs that failed, baseline or not."""
        return {key for key, o in self.outcomes.items() if o.failed}

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    # -- output ----------------------------------------------------------------------------------

    def _sorted(self) -> list[Outcome]:
        return sorted(self.outcomes.values(), key=lambda o: (o.operation == RUN, o.operation, o.check))

    def summary(self, verbose: bool = False) -> str:
        s = self.sanitize
        lines = [
            f"mockserver contract: {self.provider} against {s(self.target)} ({self.mode})",
            f"requests sent: {self.requests_sent}" + (f" of a budget of {self.budget}" if self.budget is not None else "")
            + (f"; waited {self.waited_seconds:.1f}s on Retry-After" if self.waited_seconds else ""),
        ]
        if self.stopped_by_budget:
            lines.append("stopped early: the request budget was spent (later phases are incomplete)")
        if self.interrupted:
            lines.append("interrupted (Ctrl-C): the results below are what ran before it")
        by_operation: dict[str, list[Outcome]] = {}
        for o in self._sorted():
            by_operation.setdefault(o.operation, []).append(o)
        for operation, outcomes in by_operation.items():
            lines.append(f"\n  {operation}")
            passing = [o for o in outcomes if not o.failed]
            if passing and not verbose:
                lines.append(f"    ok    {len(passing)} checks: {', '.join(o.check for o in passing)}")
            for o in outcomes:
                if not o.failed:
                    if verbose:
                        lines.append(f"    ok    {o.check} ({o.passed} passed)")
                    continue
                mark = "KNOWN" if o.known else "FAIL"
                total = sum(f.count for f in o.findings)
                lines.append(f"    {mark:5s} {o.check} ({o.passed} passed, {total} failed)")
                for finding in o.findings[: (None if verbose else 3)]:
                    code = f"[{finding.code}] " if finding.code else ""
                    lines.append(f"          {code}{s(finding.title)}" + (f" ({finding.phase})" if finding.phase else ""))
                    for text in s(finding.message).strip().splitlines()[:6]:
                        lines.append(f"            {text}")
                    if finding.example and "\n" in finding.example.strip():
                        requests_in = finding.example.count("show(") - 1
                        if verbose:
                            lines.append("            reproduce (a Python script):")
                            lines += [f"              {text}" for text in s(finding.example).rstrip().splitlines()]
                        else:
                            lines.append(f"            reproduce: a script of {requests_in} request(s), "
                                         "printed with --verbose, saved by --save-findings DIR, replayed by --replay")
                    elif finding.example:
                        lines.append(f"            reproduce: {s(finding.example)}")
        if self.created:
            lines.append(f"\ncreated: {len(self.created)} resource(s)")
        for what, done, detail in self.cleanup:
            lines.append(f"  clean-up {'done' if done else 'FAILED'}: {s(what)}" + (f" ({s(detail)})" if detail else ""))
        for note in self.notes:
            lines.append(f"note: {s(note)}")
        for error in self.errors:
            lines.append(f"ERROR: {s(error)}")
        failing = len(self.failures)
        checks = len(self.outcomes)
        verdict = "INTERRUPTED" if self.interrupted else ("PASSED" if self.ok else "FAILED")
        lines.append(
            f"\n{verdict}: {checks - failing} of {checks} operation checks passed"
            + (f", {failing} failed" if failing else "")
            + (f", {len(self.errors)} error(s)" if self.errors else "")
            + f" in {self.elapsed:.1f}s"
        )
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        data = {
            "provider": self.provider,
            "target": self.target,
            "mode": self.mode,
            "ok": self.ok,
            "budget": self.budget,
            "requests_sent": self.requests_sent,
            "requests_by_method": self.requests_by_method,
            "waited_seconds": round(self.waited_seconds, 3),
            "stopped_by_budget": self.stopped_by_budget,
            "interrupted": self.interrupted,
            "elapsed_seconds": round(self.elapsed, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "results": [
                {
                    "operation": o.operation,
                    "check": o.check,
                    "status": "failed" if o.failed and not o.known else ("known" if o.failed else "passed"),
                    "passed": o.passed,
                    "failures": [
                        {
                            "code": f.code, "title": f.title, "message": f.message, "example": f.example,
                            "phase": f.phase, "count": f.count, **({"steps": f.steps} if f.steps else {}),
                        }
                        for f in o.findings
                    ],
                }
                for o in self._sorted()
            ],
            "created": self.created,
            "cleanup": [{"what": w, "done": d, "detail": x} for w, d, x in self.cleanup],
            "notes": self.notes,
            "errors": self.errors,
        }
        return self.sanitize(data)  # type: ignore[no-any-return]

    def write_json(self, path: str | Path) -> None:
        write_text(path, json.dumps(self.as_dict(), indent=2) + "\n")

    def junit(self) -> ET.Element:
        s = self.sanitize
        suite = ET.Element(
            "testsuite",
            name=f"mockserver-contract.{self.provider}",
            tests=str(len(self.outcomes)),
            failures=str(len(self.failures)),
            errors=str(len(self.errors)),
            time=f"{self.elapsed:.3f}",
        )
        for o in self._sorted():
            case = ET.SubElement(suite, "testcase", classname=f"{self.provider}.{o.operation}", name=o.check)
            if o.failed:
                tag = "skipped" if o.known else "failure"
                text = "\n\n".join(
                    s(f"[{f.code}] {f.title}\n{f.message}" + (f"\nreproduce: {f.example}" if f.example else "")) for f in o.findings
                )
                element = ET.SubElement(case, tag, message=s(f"{o.check} failed on {o.operation}" + (" (known, in baseline)" if o.known else "")))
                element.text = text
        for error in self.errors:
            case = ET.SubElement(suite, "testcase", classname=f"{self.provider}.{RUN}", name="error")
            ET.SubElement(case, "error", message=s(error.split("\n", 1)[0])).text = s(error)
        return suite

    def write_junit(self, path: str | Path) -> None:
        write_junit([self], path)


def write_junit(reports: list[Report], path: str | Path) -> None:
    root = ET.Element("testsuites")
    for report in reports:
        root.append(report.junit())
    ET.indent(root)
    write_text(path, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")


def load_baseline(path: str | Path, provider: str | None = None) -> set[tuple[str, str]]:
    """Accepted (operation, check) failures, from a provider baseline (``{"contract": [...]}``), a ledger keyed by
    provider (``{"anyapi": [...]}``) or a plain ``{"accepted": [...]}``; entries are ``{operation, check, why}``."""
    data = json.loads(Path(path).read_text())
    if "contract" in data:
        entries = data["contract"]
    elif provider is not None and provider in data:
        entries = data[provider]
    else:
        entries = data.get("accepted", [])
    return {(item["operation"], item["check"]) for item in entries or []}


def grand_total(reports: list[Report]) -> str:
    """One line over several providers' runs (``--provider all``)."""
    checks = sum(len(r.outcomes) for r in reports)
    failing = sum(len(r.failures) for r in reports)
    errors = sum(len(r.errors) for r in reports)
    verdict = "INTERRUPTED" if any(r.interrupted for r in reports) else ("PASSED" if all(r.ok for r in reports) else "FAILED")
    bad = [r.provider for r in reports if not r.ok]
    return (
        f"TOTAL {verdict}: {len(reports)} provider(s), {checks - failing} of {checks} operation checks passed"
        + (f", {failing} failed" if failing else "") + (f", {errors} error(s)" if errors else "")
        + f"; {sum(r.requests_sent for r in reports)} requests in {sum(r.elapsed for r in reports):.1f}s"
        + (f" (failing: {', '.join(bad)})" if bad else "")
    )
