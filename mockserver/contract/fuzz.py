"""Schemathesis' phases (examples, coverage, fuzzing, stateful) over one spec, results into the kit's report.

The config is built here, explicitly: no ``schemathesis.toml`` is ever discovered. Against a fake every
operation is fuzzed, positive and negative, with undeclared methods and stateful sequences. Against a
real target only safe (GET) operations are generated from the spec; with writes allowed, unsafe
operations get negative cases only, which a conforming server rejects without creating anything.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import schemathesis
from schemathesis.engine import events, from_schema
from schemathesis.specs.openapi.schemas import OpenApiSchema

from .api import header_title
from .meter import Meter
from .report import Finding, Report

if TYPE_CHECKING:
    from .profiles import Profile
    from .semantics import Observer

PHASES = ("examples", "coverage", "fuzzing", "stateful")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class FuzzOptions:
    max_examples: int = 10
    seed: int = 0
    phases: tuple[str, ...] = PHASES
    stateful_steps: int = 8
    request_timeout: float = 10.0
    full: bool = True  # every operation, undeclared methods, stateful (fake); False: the real-target rules above
    allow_writes: bool = False
    operations: tuple[str, ...] = ()  # restrict to these operationIds (empty: all)
    shrink: bool = True  # minimise failing cases (more requests, clearer examples)
    explore: bool = False  # a target you own, writes allowed: generated writes too (fuzzing and stateful phases)


POSITIVE_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis' own default


def config_dict(options: FuzzOptions, refusals: dict[str, tuple[tuple[int, ...], str]] | None = None) -> dict[str, Any]:
    phases: dict[str, Any] = {name: {"enabled": name in options.phases} for name in PHASES}
    if not options.full:
        phases["coverage"]["unexpected-methods"] = []  # never send undeclared methods to a real target
        # stateful sequences create; the kit's flows do that, bounded (unless --explore asks for generated writes)
        phases["stateful"]["enabled"] = options.explore and "stateful" in options.phases
    phases["stateful"]["max-steps"] = options.stateful_steps
    data: dict[str, Any] = {
        "seed": options.seed,
        "workers": 1,
        "request-timeout": options.request_timeout,
        "generation": {
            "max-examples": options.max_examples, "deterministic": True, "database": "none", "no-shrink": not options.shrink,
        },
        "phases": phases,
        "output": {"sanitization": {"enabled": True}},
        "warnings": False,
        # "too many examples filtered" means nothing could be generated (e.g. negative path ids), not an API fault
        "suppress-health-check": ["filter_too_much"],
    }
    operations: list[dict[str, Any]] = [
        {
            "include-operation-id": operation_id,
            "checks": {"positive_data_acceptance": {"expected-statuses": [*POSITIVE_ACCEPTED, *map(str, statuses)]}},
        }
        for operation_id, (statuses, _why) in sorted((refusals or {}).items())
    ]
    if not options.full and not options.explore:
        unsafe: dict[str, Any] = {"include-method": list(UNSAFE)}
        if options.allow_writes:
            unsafe["generation"] = {"mode": "negative"}
            unsafe["phases"] = {"examples": {"enabled": False}}
        else:
            unsafe["enabled"] = False
        operations.append(unsafe)
    if operations:
        data["operations"] = operations
    return data


def load(
    spec: Path, options: FuzzOptions, base_url: str, headers: dict[str, str],
    refusals: dict[str, tuple[tuple[int, ...], str]] | None = None,
) -> OpenApiSchema:
    data = config_dict(options, refusals)
    if "links:" in spec.read_text():
        # the spec's explicit links drive the sequences (inference would guess a root that cannot create anything)
        data["phases"]["stateful"]["inference"] = {"algorithms": []}
    config = schemathesis.Config.from_dict(data)
    schema: Any = schemathesis.openapi.from_path(spec, config=config)  # include/exclude answer a BaseSchema
    schema.config.update(base_url=base_url, headers=headers)
    if options.operations:
        schema = schema.include(operation_id=list(options.operations))
    if not options.full and options.allow_writes and not options.explore:
        # negative cases of an unsafe operation without a body (cancel, delete) could only vary a string id:
        # nothing invalid to send; the kit's flows exercise those operations
        bodiless = [
            op["operationId"] for item in schema.raw_schema.get("paths", {}).values() for method, op in item.items()
            if method.upper() in UNSAFE and isinstance(op, dict) and "requestBody" not in op and "operationId" in op
        ]
        if bodiless:
            schema = schema.exclude(operation_id=bodiless)
    return schema  # type: ignore[no-any-return]


# -- the semantics observer as a schemathesis check ---------------------------------------------------

@dataclass(frozen=True)
class _Run:
    profile: Profile
    observer: Observer
    headers: dict[str, str]
    context: dict[str, Any]
    explore: bool = False
    on_create: Any = None  # (resource, id, label) -> None: a generated case created something


# the kit runs in progress, by spec title (titles are unique across specs/); checks and hooks are global
_ACTIVE: dict[str, _Run] = {}
_ACTIVE_LOCK = threading.Lock()


def _active(case: Any) -> _Run | None:
    title = case.operation.schema.raw_schema.get("info", {}).get("title")
    with _ACTIVE_LOCK:
        return _ACTIVE.get(title)


@schemathesis.check
def batch_semantics(ctx: Any, response: Any, case: Any) -> None:
    """Feeds every answer of a kit run to its observer (which reports under its own check names)."""
    active = _active(case)
    if active is None:
        return None
    try:
        body = response.json()
    except Exception:
        return None
    operation_id = case.operation.definition.raw.get("operationId")
    example = placeholders(case.as_curl_command(headers=active.headers), active.profile)
    phase = case.meta.phase.name.value if case.meta is not None else ""
    path = {k: str(v) for k, v in (case.path_parameters or {}).items()}
    active.observer.observe(operation_id, case.operation.label, path, response.status_code, body, example, phase)
    if active.on_create is not None and 200 <= response.status_code < 300:
        for resource, view in active.observer.views.get(operation_id, []):
            if view.creates:
                for ident, _ in active.observer.extract(resource, view, body, path):
                    active.on_create(resource.name, ident, case.operation.label)
    return None


# -- running --------------------------------------------------------------------------------------------




@schemathesis.hook("before_call")
def pin_valid_values(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Positive cases of a kit run get the values its profile says the spec cannot express (see Profile.samples)."""
    active = _active(case)
    meta = case.meta
    if active is None or meta is None or meta.generation.mode.value != "positive":
        return
    operation_id = case.operation.definition.raw.get("operationId")
    query = active.profile.query_samples.get(operation_id)
    if query is not None and isinstance(case.query, dict):
        case.query.update(query(active.context))
    if not isinstance(case.body, dict):
        return
    case.body.update(active.profile.samples.get(operation_id, {}))
    explore = active.profile.explore_files.get(operation_id)
    if active.explore and explore is not None and "file" in case.body:
        # --explore: half the uploads become inputs of the provider's format, valid and broken lines mixed
        rng = random.Random(hashlib.sha256(repr(sorted(case.body.items(), key=str)).encode()).digest())
        if rng.random() < 0.5:
            case.body["file"] = explore(rng).decode()  # text: a string, as the schema says (bytes would make the case "invalid")
    if meta.phase.name.value == "stateful":
        case.body.update(active.profile.stateful_pins.get(operation_id, {}))


def run(
    schema: OpenApiSchema,
    profile: Profile,
    report: Report,
    observer: Observer,
    meter: Meter,
    headers: dict[str, str],
    context: dict[str, Any] | None = None,
    explore: bool = False,
    on_create: Any = None,
) -> None:
    """Run the engine over ``schema`` and record every check result (and the observer's) in ``report``."""
    title = schema.raw_schema.get("info", {}).get("title")
    stream = from_schema(schema).execute()
    meter.on_exhausted.append(stream.stop)
    with _ACTIVE_LOCK:
        _ACTIVE[title] = _Run(profile, observer, headers, context or {}, explore, on_create)
    interrupted = False
    try:
        for event in stream:
            if isinstance(event, events.ScenarioFinished):
                _record(event, report, profile)
            elif isinstance(event, events.Interrupted):
                interrupted = True  # schemathesis caught the Ctrl-C and winds down; the run stops after it
            elif isinstance(event, events.NonFatalError):
                if "budget" in event.info.message or meter.exhausted or "not sent:" in event.info.message:
                    continue
                report.error(f"{event.label}: {event.info.title}: {event.info.message}")
            elif isinstance(event, events.FatalError):
                report.error(f"schemathesis stopped: {event.exception!r}")
            elif isinstance(event, events.EngineFinished):
                for failure in event.failures:
                    report.fail(Finding(operation=failure.operation or "(run)", check="after_run", title=failure.title,
                                        message=failure.message, code=failure.code))
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.pop(title, None)
        meter.on_exhausted.remove(stream.stop)
    if interrupted:
        raise KeyboardInterrupt


def _binary_parts(case: Any) -> set[str]:
    body = case.operation.get_body_for_media_type(case.media_type or "")
    properties = (body.resolved_schema or {}).get("properties", {}) if body is not None else {}
    return {
        name for name, prop in properties.items()
        if isinstance(prop, dict) and (prop.get("format") in ("binary", "byte") or "contentMediaType" in prop)
    }


def _binary_part_retyped(failure: Any, case: Any) -> bool:
    """An "invalid" multipart case whose only change is the JSON type of a file part is not invalid on the wire:
    a file part is bytes, and the digits of a number are as good a file as any. Such ST201 reports are noise."""
    if getattr(failure, "code", "") != "ST201" or case is None or not (case.media_type or "").startswith("multipart/"):
        return False
    mentioned = re.findall(r"at /properties/([^/\s]+)", failure.message)
    if not mentioned or "violates `type`" not in failure.message:
        return False
    return set(mentioned) <= _binary_parts(case)


def placeholders(text: str, profile: Profile) -> str:
    """schemathesis' curl lines show credentials as [Filtered]: put the environment variable that holds them there."""
    marker = "\x00KEY\x00"
    for name, value in profile.auth(marker).items():
        shown = value.replace(marker, "$" + profile.key_env[0])
        for spelled in (name, name.lower(), name.title()):
            text = text.replace(f"-H '{spelled}: [Filtered]'", f'-H "{name}: {shown}"')
    for name, (var, _default) in profile.extra_headers.items():
        for spelled in (name, name.lower(), name.title()):
            text = text.replace(f"-H '{spelled}: [Filtered]'", f'-H "{name}: ${var}"')
    return text


def _record(event: events.ScenarioFinished, report: Report, profile: Profile | None = None) -> None:
    recorder = event.recorder
    phase = event.phase.value
    if report.progress is not None:
        results = [c.status.value for checks in recorder.checks.values() for c in checks if c.name != "batch_semantics"]
        report.tell(f"{phase:9s} {event.label or '(run)'}: " + (
            f"{results.count('success')} checks passed" + (f", {results.count('failure')} failed" if "failure" in results else "")
            if results else "no cases"))
    for case_id, checks in recorder.checks.items():
        node = recorder.cases.get(case_id)
        label = node.value.operation.label if node is not None else (event.label or "(run)")
        for check in checks:
            if check.name == "batch_semantics":
                continue  # the observer reports under its own names
            if check.status.value == "success":
                report.passed(label, check.name)
            elif check.status.value == "failure" and check.failure_info is not None:
                failure = check.failure_info.failure
                if _binary_part_retyped(failure, node.value if node is not None else None):
                    continue
                step = case_step(node.value, recorder.interactions.get(case_id)) if node is not None else None
                report.fail(Finding(
                    operation=failure.operation or label, check=check.name, title=header_title(failure), message=failure.message,
                    code=failure.code, phase=phase,
                    example=placeholders(check.failure_info.code_sample, profile) if profile else check.failure_info.code_sample,
                    steps=[step] if step is not None else [],
                ))
            elif check.status.value == "error":
                report.error(f"{label}: the check {check.name} crashed")


def case_step(case: Any, interaction: Any) -> dict[str, Any] | None:
    """A generated case as a saved step (reproduce.py's shape), so its finding can be replayed; None when its body is
    neither JSON nor a form the kit can send again."""
    import base64
    import json

    from schemathesis.core import NotSet

    operation_id = case.operation.definition.raw.get("operationId")
    if not operation_id:
        return None
    response = getattr(interaction, "response", None)
    data: dict[str, Any] = {
        "operation_id": operation_id, "label": case.operation.label, "method": case.method.upper(), "path": case.operation.path,
        "path_params": {k: str(v) for k, v in (case.path_parameters or {}).items()},
        "status": response.status_code if response is not None else 0, "at": 0.0, "generated": True,
    }
    if case.query:
        data["query"] = dict(case.query)
    body, media = case.body, case.media_type or ""
    if not isinstance(body, NotSet) and body is not None:
        if "json" in media:
            data["json"] = body
        elif media.startswith("multipart/") and isinstance(body, dict):
            binary = _binary_parts(case)
            files, form = {}, {}
            for key, value in body.items():
                if key in binary:
                    content = value if isinstance(value, bytes) else (value if isinstance(value, str) else json.dumps(value)).encode()
                    files[key] = [key, base64.b64encode(content).decode(), "application/octet-stream"]
                else:
                    form[key] = value if isinstance(value, str) else json.dumps(value)
            if not files:
                return None
            data["files"], data["data"] = files, form
        else:
            return None
    if response is not None:
        try:
            data["body"] = json.loads(response.content or b"null")
        except ValueError:
            data["text"] = (response.content or b"")[:20_000].decode("utf-8", "replace")
    return data
