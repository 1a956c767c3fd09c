"""Drift: the same request sequence sent to the fake and to a target, compared field by field and status by status.

Volatile values (ids, timestamps, request ids, URLs) are normalised before comparing. A field the target
sends that its spec does not declare is a warning, never a failure. Accepted differences live in a
per-provider baseline file, so a nightly run fails only on new drift.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..spec.loader import load_yaml, specs_dir
from . import fuzz
from .api import Api, Exchange, FlowError
from .meter import BudgetExhausted, Meter, Sanitizer
from .profiles import Profile, get_profile
from .report import Report
from .runner import FAKE_CLOCK_SPEED, fake_server
from .semantics import Observer

MISSING_ID = "mockserver-drift-missing"
VOLATILE_KEYS = re.compile(r"(^|_)(id|ids|key|url|at|timestamp|time|date)$|^(id|request_id|generation_id|trace_id|message|description)$")


@dataclass
class Difference:
    step: str
    kind: str  # status | missing_field | extra_field | type | value | undeclared_field
    path: str
    fake: Any
    target: Any
    severity: str = "error"  # error | warning
    known: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.step, self.kind, self.path)


@dataclass
class DriftReport:
    provider: str
    target: str
    sanitize: Sanitizer
    steps: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests_sent: int = 0

    @property
    def new(self) -> list[Difference]:
        return [d for d in self.differences if d.severity == "error" and not d.known]

    @property
    def exit_code(self) -> int:
        return 1 if self.new else 0

    def as_dict(self) -> dict[str, Any]:
        return self.sanitize({  # type: ignore[no-any-return]
            "provider": self.provider, "target": self.target, "ok": not self.new, "steps": self.steps,
            "requests_sent": self.requests_sent, "notes": self.notes,
            "differences": [
                {"step": d.step, "kind": d.kind, "path": d.path, "fake": d.fake, "target": d.target,
                 "severity": d.severity, "known": d.known}
                for d in self.differences
            ],
        })

    def markdown(self) -> str:
        s = self.sanitize
        lines = [f"# Drift: {self.provider} fake vs {s(self.target)}", ""]
        new, known = self.new, [d for d in self.differences if d.known]
        warnings = [d for d in self.differences if d.severity == "warning"]
        lines.append(f"{len(self.steps)} steps compared, {self.requests_sent} requests to the target: "
                     f"**{len(new)} new difference(s)**, {len(known)} accepted in the baseline, {len(warnings)} warning(s).")
        lines.append("")
        if self.differences:
            lines += ["| step | kind | path | fake | target | verdict |", "|---|---|---|---|---|---|"]
            for d in self.differences:
                verdict = "accepted" if d.known else ("warning" if d.severity == "warning" else "**new drift**")
                lines.append(f"| {d.step} | {d.kind} | `{d.path}` | {_cell(s(d.fake))} | {_cell(s(d.target))} | {verdict} |")
        else:
            lines.append("No differences.")
        for note in self.notes:
            lines.append(f"\n> {s(note)}")
        return "\n".join(lines) + "\n"

    def summary(self) -> str:
        return self.markdown()


def _cell(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text.replace("|", "\\|")[:80]


# -- normalising and comparing ---------------------------------------------------------------------------


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Path -> value for every node; list items merge under ``[]`` (the first item's value is kept)."""
    out: dict[str, Any] = {prefix or "$": value}
    if isinstance(value, dict):
        for key, item in value.items():
            for path, leaf in flatten(item, f"{prefix}.{key}" if prefix else key).items():
                out.setdefault(path, leaf)
    elif isinstance(value, list):
        for item in value:
            for path, leaf in flatten(item, f"{prefix}[]").items():
                out.setdefault(path, leaf)
    return out


def _last_key(path: str) -> str:
    return path.replace("[]", "").rsplit(".", 1)[-1]


class SpecShapes:
    """What the spec declares: property names with an enum (their values are compared) and where fields are declared."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.enum_keys: set[str] = set()
        self._collect(document.get("components", {}), None)
        for item in document.get("paths", {}).values():
            self._collect(item, None)

    def _collect(self, node: Any, name: str | None) -> None:
        if isinstance(node, dict):
            if name and ("enum" in node or "const" in node):
                self.enum_keys.add(name)
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    for prop, schema in value.items():
                        self._collect(schema, prop)
                else:
                    self._collect(value, name if key in ("items", "allOf", "anyOf", "oneOf") else None)
        elif isinstance(node, list):
            for item in node:
                self._collect(item, name)

    def _deref(self, node: Any) -> Any:
        for _ in range(32):
            if not (isinstance(node, dict) and "$ref" in node):
                return node
            target: Any = self.document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
            node = target
        return node

    def _variants(self, node: Any) -> list[dict[str, Any]]:
        node = self._deref(node)
        if not isinstance(node, dict):
            return []
        out = [node]
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(key, []) or []:
                out += self._variants(sub)
        return out

    def response_schema(self, operation_id: str, status: int) -> Any:
        for item in self.document.get("paths", {}).values():
            for operation in item.values():
                if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                    responses = operation.get("responses", {})
                    response = self._deref(responses.get(str(status)) or responses.get(f"{status // 100}XX") or responses.get("default"))
                    content = (response or {}).get("content", {}) if isinstance(response, dict) else {}
                    media: Any = content.get("application/json") or next(iter(content.values()), {})
                    return media.get("schema") if isinstance(media, dict) else None
        return None

    def declared(self, schema: Any, path: str) -> bool:
        """Whether the field at ``path`` (dotted, ``[]`` for items) is declared by ``schema``."""
        nodes = [schema]
        for part in re.findall(r"[^.\[\]]+|\[\]", path):
            following = []
            for node in nodes:
                for variant in self._variants(node):
                    if part == "[]":
                        if "items" in variant:
                            following.append(variant["items"])
                    elif part in (variant.get("properties") or {}):
                        following.append(variant["properties"][part])
                    elif isinstance(variant.get("additionalProperties"), dict) or variant.get("additionalProperties") is True:
                        following.append(variant["additionalProperties"] if isinstance(variant["additionalProperties"], dict) else {})
                    elif variant.get("type") == "object" and not variant.get("properties") and "additionalProperties" not in variant:
                        following.append({})  # a free-form object declares whatever it holds
            if not following:
                return False
            nodes = following
        return True


def _has_items(flat: dict[str, Any], path: str) -> bool:
    prefix = path[: path.index("[]")]
    return isinstance(flat.get(prefix), list) and bool(flat[prefix])


def compare(step: str, operation_id: str, fake: Exchange, target: Exchange, shapes: SpecShapes) -> list[Difference]:
    diffs: list[Difference] = []
    if fake.status != target.status:
        diffs.append(Difference(step, "status", "$status", fake.status, target.status))
        return diffs  # bodies of different statuses are different documents
    a, b = flatten(fake.body), flatten(target.body)
    schema = shapes.response_schema(operation_id, target.status)
    for path in sorted(set(a) | set(b)):
        if "[]" in path and not (_has_items(a, path) and _has_items(b, path)):
            continue  # a list empty on one side is a difference of data (the accounts differ), not of shape
        if path == "$":
            if _type(a[path]) != _type(b[path]):
                diffs.append(Difference(step, "type", path, _type(a[path]), _type(b[path])))
            continue
        if path not in b:
            diffs.append(Difference(step, "missing_field", path, _type(a[path]), None))
        elif path not in a:
            if schema is not None and not shapes.declared(schema, path):
                diffs.append(Difference(step, "undeclared_field", path, None, _type(b[path]), severity="warning"))
            else:
                diffs.append(Difference(step, "extra_field", path, None, _type(b[path])))
        elif _type(a[path]) != _type(b[path]) and "null" not in (_type(a[path]), _type(b[path])):
            diffs.append(Difference(step, "type", path, _type(a[path]), _type(b[path])))
        elif not isinstance(a[path], (dict, list)) and _last_key(path) in shapes.enum_keys and not VOLATILE_KEYS.search(_last_key(path)):
            if a[path] != b[path]:
                diffs.append(Difference(step, "value", path, a[path], b[path]))
    # a field present on one side only as null is not a real difference of shape
    return [d for d in diffs if not (d.kind in ("missing_field", "extra_field") and (d.fake == "null" or d.target == "null"))]


# -- the request sequence -----------------------------------------------------------------------------------


@dataclass
class _Side:
    api: Api
    trace: list[tuple[str, Exchange]] = field(default_factory=list)

    def call(self, step: str, operation_id: str, **kwargs: Any) -> Exchange:
        exchange = self.api.call(operation_id, check=False, **kwargs)
        self.trace.append((step, exchange))
        return exchange


def _wrong(headers: dict[str, str], profile: Profile) -> dict[str, str]:
    auth = profile.auth("x")
    return {k: (v + "-wrong" if k in auth else v) for k, v in headers.items()}


def _missing_id(document: dict[str, Any], operation_id: str, param: str) -> str:
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                for p in operation.get("parameters", []):
                    if isinstance(p, dict) and p.get("name") == param and (p.get("schema") or {}).get("type") == "integer":
                        return "987654321"
    return MISSING_ID


def sequence(side: _Side, profile: Profile, document: dict[str, Any], writes: bool) -> None:
    """The same steps on either side: lists, unknown ids, auth failures, a bad limit, and (with writes) a create flow."""
    api = side.api
    known = {op.get("operationId") for item in document.get("paths", {}).values() for op in item.values() if isinstance(op, dict)}
    for pagination in profile.pagination:
        if pagination.operation_id not in known:
            continue
        query = dict(pagination.query(api.context) if pagination.query else {})
        side.call(f"list {pagination.operation_id}", pagination.operation_id, query={**query, pagination.limit_param: 2})
        side.call(f"list {pagination.operation_id} limit=0", pagination.operation_id, query={**query, pagination.limit_param: 0})
    for resource in profile.resources:
        if resource.retrieve and resource.retrieve[0] in known:
            operation_id, param = resource.retrieve
            side.call(f"get unknown {resource.name}", operation_id, path={param: _missing_id(document, operation_id, param)})
    first_list = next((p for p in profile.pagination if p.operation_id in known), None)
    if first_list is not None:
        query = dict(first_list.query(api.context) if first_list.query else {})
        headers = api.headers
        try:
            api.headers = {k: v for k, v in headers.items() if k not in profile.auth("x")}
            side.call("no api key", first_list.operation_id, query=query)
            api.headers = _wrong(headers, profile)
            side.call("wrong api key", first_list.operation_id, query=query)
        finally:
            api.headers = headers
    if writes and profile.create is not None:
        original = api.call
        counter = iter(range(1, 1000))

        def traced(operation_id: str, **kwargs: Any) -> Exchange:
            exchange = original(operation_id, **kwargs)
            side.trace.append((f"flow {next(counter)} {operation_id}", exchange))
            return exchange

        api.call = traced  # type: ignore[method-assign]
        try:
            created = profile.create(api)
            resource = profile.resource(created.resource)
            if resource.retrieve:
                api.call(resource.retrieve[0], path={resource.retrieve[1]: created.id})
            if profile.cancel is not None:
                profile.cancel(api, created.id)
                if resource.retrieve:
                    api.call(resource.retrieve[0], path={resource.retrieve[1]: created.id})
        finally:
            api.call = original  # type: ignore[method-assign]


@contextmanager
def _side(profile: Profile, schema: Any, base_url: str, key: str, fake: bool, budget: int | None, env: dict[str, str],
          report: Report) -> Iterator[_Side]:
    with Meter(base_url, budget=budget) as meter:
        api = Api(profile, schema, base_url, profile.headers(key, env, fake=fake), report, Observer(profile, report), meter,
                  profile.context(env, fake=fake))
        side = _Side(api)
        try:
            yield side
        finally:
            api.run_cleanups()
            side.api.report.requests_sent = meter.sent


def run_drift(
    provider: str,
    base_url: str | None,
    api_key: str | None = None,
    *,
    allow_writes: bool = False,
    budget: int | None = 100,
    baseline: Path | None = None,
    environ: dict[str, str] | None = None,
    fake_clock_speed: float = FAKE_CLOCK_SPEED,
    cassette: Path | None = None,
) -> DriftReport:
    """Send the sequence to a fake started here and to ``base_url``; compare the answers step by step.

    Statuses read during a flow depend on timing on both sides; ``fake_clock_speed`` sets how fast the fake's
    lifecycles run (0 freezes them, as for a target whose clock is frozen too)."""
    profile = get_profile(provider)
    env = dict(os.environ if environ is None else environ)
    key = api_key or profile.key_from_env(env)
    if cassette is not None:
        key = key or "offline"
        if not cassette_file(cassette, provider).exists():
            from .runner import ContractSetupError

            raise ContractSetupError(f"no cassette for {provider} in {cassette}: record one with drift --record")
        allow_writes = bool(json.loads(cassette_file(cassette, provider).read_text()).get("writes"))
    if not key:
        from .runner import ContractSetupError

        raise ContractSetupError(f"no API key for {provider}: pass --api-key or set {' or '.join(profile.key_env)}")
    spec = specs_dir() / f"{profile.spec}.yaml"
    document = load_yaml(spec.read_text())
    shapes = SpecShapes(document)
    drift = DriftReport(provider, base_url or f"cassette {cassette}", Sanitizer(profile.secrets(key, env)))
    fake_key = "sk-drift-" + secrets.token_hex(8)
    traces: list[list[tuple[str, Exchange]]] = []
    sides = ((None, fake_key, True), (base_url, key, False))
    for url, side_key, fake in sides if cassette is None else sides[:1]:
        report = Report(provider, url or "fake", "drift")
        with (fake_server(provider, fake_key, clock_speed=fake_clock_speed) if fake else _nullcontext(base_url)) as served:
            where: str = served.url if fake else served  # type: ignore[assignment]  # fake: a Fake; else the base URL
            schema = fuzz.load(spec, fuzz.FuzzOptions(), where, {})
            with _side(profile, schema, where, side_key, fake, None if fake else budget, env, report) as side:
                try:
                    sequence(side, profile, document, allow_writes)
                except (BudgetExhausted, FlowError) as exc:
                    drift.notes.append(f"{'fake' if fake else 'target'}: sequence stopped early: {exc}")
            if not fake:
                drift.requests_sent = report.requests_sent
        traces.append(side.trace)
    if cassette is not None:
        recorded = load_cassette(cassette, provider)
        traces.append(recorded)
        drift.notes.append(f"target: the cassette {cassette_file(cassette, provider)} (recorded "
                           f"{json.loads(cassette_file(cassette, provider).read_text()).get('recorded', '?')}), not the network")
    fake_trace, target_trace = traces
    accepted = load_drift_baseline(baseline) if baseline and baseline.exists() else set()
    for (step, a), (step_b, b) in zip(fake_trace, target_trace):
        if step != step_b:
            drift.notes.append(f"the sequences diverged at {step!r} / {step_b!r}; later steps are not compared")
            break
        drift.steps.append(step)
        for difference in compare(step, a.operation_id, a, b, shapes):
            difference.known = difference.key in accepted
            drift.differences.append(difference)
    if len(fake_trace) != len(target_trace):
        drift.notes.append(f"the fake answered {len(fake_trace)} steps, the target {len(target_trace)}")
    return drift


@contextmanager
def _nullcontext(value: str | None) -> Iterator[Any]:
    yield value


# -- baseline -------------------------------------------------------------------------------------------


def load_drift_baseline(path: Path) -> set[tuple[str, str, str]]:
    data = json.loads(path.read_text())
    return {(d["step"], d["kind"], d["path"]) for d in data.get("drift", [])}


def update_baseline(path: Path, drift: DriftReport) -> None:
    """Accept every current error-level difference (keeps the file's other sections and earlier reasons)."""
    data = json.loads(path.read_text()) if path.exists() else {}
    reasons = {(d["step"], d["kind"], d["path"]): d.get("why", "") for d in data.get("drift", [])}
    data["drift"] = [
        {"step": d.step, "kind": d.kind, "path": d.path, "why": reasons.get(d.key, "accepted by --update-baseline")}
        for d in drift.differences if d.severity == "error"
    ]
    data.setdefault("contract", [])
    path.write_text(json.dumps(data, indent=2) + "\n")


# -- cassettes: a target's answers, recorded once, compared offline ---------------------------------------

# fields whose text is what the user asked or heard: never stored (their type is kept, which is what drift compares)
PRIVATE_KEYS = re.compile(r"^(messages|content|prompt|user_prompt|input|instructions|transcript\w*|text|body_text|"
                          r"result_explanation|first_name|last_name|customer_phone|phone\w*|to_number|from_number|"
                          r"metrics|dynamic_variables|name)$")


def redact(value: Any, private: bool = False) -> Any:
    """``value`` with every string under a private key replaced (numbers, booleans and shapes kept)."""
    if isinstance(value, dict):
        return {k: redact(v, private or bool(PRIVATE_KEYS.match(str(k)))) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, private) for v in value]
    if private and isinstance(value, str):
        return "[redacted]"
    return value


def cassette_file(directory: Path, provider: str) -> Path:
    return Path(directory) / f"{provider}.json"


def record_cassette(
    provider: str, base_url: str, api_key: str | None, directory: Path, *, allow_writes: bool = False,
    budget: int | None = 100, environ: dict[str, str] | None = None,
) -> Path:
    """Send the drift sequence to ``base_url`` and store its answers, sanitised (no key, no prompt content)."""
    import datetime

    profile = get_profile(provider)
    env = dict(os.environ if environ is None else environ)
    key = api_key or profile.key_from_env(env)
    if not key:
        from .runner import ContractSetupError

        raise ContractSetupError(f"no API key for {provider}: pass --api-key or set {' or '.join(profile.key_env)}")
    spec = specs_dir() / f"{profile.spec}.yaml"
    document = load_yaml(spec.read_text())
    sanitize = Sanitizer(profile.secrets(key, env))
    report = Report(provider, base_url, "record")
    notes = []
    schema = fuzz.load(spec, fuzz.FuzzOptions(), base_url, {})
    with _side(profile, schema, base_url, key, False, budget, env, report) as side:
        try:
            sequence(side, profile, document, allow_writes)
        except (BudgetExhausted, FlowError) as exc:
            notes.append(f"sequence stopped early: {exc}")
    data = {
        "provider": provider, "writes": allow_writes, "requests_sent": report.requests_sent, "notes": notes,
        "recorded": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "steps": [{"step": step, "operation_id": e.operation_id, "label": e.label, "status": e.status, "body": redact(e.body)}
                  for step, e in side.trace],
    }
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = cassette_file(directory, provider)
    path.write_text(json.dumps(sanitize(data), indent=2) + "\n")
    return path


def load_cassette(directory: Path, provider: str) -> list[tuple[str, Exchange]]:
    data = json.loads(cassette_file(directory, provider).read_text())
    return [(s["step"], Exchange(s["operation_id"], s["label"], s["status"], s["body"], {}, "(recorded)")) for s in data["steps"]]
