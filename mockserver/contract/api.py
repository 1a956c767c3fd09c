"""The kit's own calls (create flows, polling, pagination walks), checked like schemathesis' generated ones.

Every answer is validated by schemathesis' response checks against the spec and fed to the semantics
observer, so a hand-written flow is held to the same contract as a generated case.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import requests
from schemathesis.core.failures import FailureGroup

from .invariants import Ledger, Step
from .meter import Meter
from .report import Finding, Report

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiSchema

    from .profiles import Profile
    from .semantics import Observer

# response checks that need nothing but the answer (no extra requests, no generated data)
RESPONSE_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


class FlowError(Exception):
    """A step of a flow could not go on (the answer was not what the next step needs)."""


class NotAllowed(FlowError):
    """The run is limited to some operations (``--operation``) and this step needs another one."""


@dataclass
class Exchange:
    operation_id: str
    label: str
    status: int
    body: Any
    headers: dict[str, str]
    example: str
    text: str = ""  # the answer as text when it is not JSON (downloads)

    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Api:
    profile: Profile
    schema: OpenApiSchema
    base_url: str
    headers: dict[str, str]
    report: Report
    observer: Observer
    meter: Meter
    context: dict[str, Any] = field(default_factory=dict)
    phase: str = "flows"
    timeout: float = 30.0
    session: requests.Session = field(default_factory=requests.Session)
    cleanups: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    tick: Callable[[], object] | None = None  # a fake's clock: polling moves it on instead of waiting
    allowed: frozenset[str] | None = None  # --operation: only these operationIds are ever sent
    poll_timeout: float = 10.0
    poll_interval: float = 0.05
    ledger: Ledger | None = None
    story: list[Step] = field(default_factory=list)  # the steps of the current flow (a finding's reproducer)
    setup: list[Step] = field(default_factory=list)  # every accepted create of the run: the data later findings stand on
    started: float = field(default_factory=time.monotonic)
    last_poll: tuple[int, float] = (0, 0.0)  # reads and real seconds of the latest poll

    def begin(self, what: str) -> None:
        """A new story: the steps from here on are what a finding made now needs to be reproduced."""
        self.story = []

    def script(self) -> str:
        from .reproduce import script, steps_of

        return script(self.profile, self.base_url, steps_of(self.story))

    @property
    def operations(self) -> set[str]:
        """Every operationId of the spec (a URL run's schemathesis schema leaves some out; the kit's own calls may use them)."""
        return spec_operation_ids(self.schema.raw_schema)

    def has(self, operation_id: str) -> bool:
        return operation_id in self.operations

    def label(self, operation_id: str) -> str:
        return self.schema.find_operation_by_id(operation_id).label

    def call(
        self,
        operation_id: str,
        *,
        path: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        json_body: Any = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        data: dict[str, str] | None = None,
        cleanup: bool = False,
        check: bool = True,
        key: str | None = None,
    ) -> Exchange:
        """Send one request for ``operation_id``; check the answer against the spec and the semantics."""
        if self.allowed is not None and operation_id not in self.allowed:
            raise NotAllowed(f"{operation_id} is not among the --operation ones ({', '.join(sorted(self.allowed))})")
        operation = self.schema.find_operation_by_id(operation_id)
        path = {k: str(v) for k, v in (path or {}).items()}
        url = self.base_url.rstrip("/") + operation.path.format(**{k: quote(v, safe="") for k, v in path.items()})
        headers = self.headers
        if key is not None:  # other credentials than the run's ("": none), for ignored_auth replayed
            secret = {k.lower() for k in self.profile.auth("x")}
            headers = {k: v for k, v in self.headers.items() if k.lower() not in secret}
            headers.update(self.profile.auth(key) if key else {})
        kwargs: dict[str, Any] = {"params": query, "headers": headers, "timeout": self.timeout}
        if json_body is not None:
            kwargs["json"] = json_body
        if files is not None:
            kwargs["files"] = files
            kwargs["data"] = data or {}
        if cleanup:
            with self.meter.cleanup():
                response = self.session.request(operation.method.upper(), url, **kwargs)
        else:
            response = self.session.request(operation.method.upper(), url, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        step = Step(operation_id, operation.label, operation.method.upper(), operation.path, path, query, json_body, files, data,
                    response.status_code, body,
                    response.text if body is None or "json" not in response.headers.get("content-type", "json") else "",
                    time.monotonic() - self.started,
                    dict(response.headers))
        self.story.append(step)
        if step.ok() and not cleanup and any(v.creates and v.operation_id == operation_id for r in self.profile.resources for v in r.views):
            self.setup.append(step)
        example = _curl(operation.method.upper(), url, query, json_body, files, data, _auth_flags(self.profile))
        exchange = Exchange(operation_id, operation.label, response.status_code, body, dict(response.headers), example, step.text)
        if check and key is None and response.status_code in (401, 403):
            # with the run's own credentials: nothing can be tested, and that is not a pass
            env = " or ".join(self.profile.key_env)
            self.report.error(f"the target refused the run's credentials ({response.status_code} on {operation.label}): "
                              f"check --api-key or {env}")
        if check:
            from .reproduce import steps_of

            story = list(self.story)
            self.report.steps = lambda: steps_of(story)
            example = self.script()
            try:
                self._validate(operation, path, query, json_body if files is None else {**(data or {}), **{k: v[1] for k, v in files.items()}},
                               "multipart/form-data" if files is not None else ("application/json" if json_body is not None else None),
                               response, example)
                if self.ledger is not None:
                    self.ledger.phase = self.phase
                    self.ledger.before(step, example)
                self.observer.observe(operation_id, operation.label, path, response.status_code, body, example, self.phase)
                if self.ledger is not None:
                    self.ledger.after(step, example)
            finally:
                self.report.steps = None
        return exchange

    def _validate(self, operation: Any, path: dict[str, str], query: dict[str, Any] | None, body: Any, media_type: str | None,
                  response: requests.Response, example: str) -> None:
        from schemathesis.checks import CHECKS, load_all_checks

        load_all_checks()
        kwargs: dict[str, Any] = {"path_parameters": path, "query": query or {}}
        if body is not None:
            kwargs.update(body=body, media_type=media_type)
        case = operation.Case(**kwargs)
        for name in RESPONSE_CHECKS:
            try:
                case.validate_response(response, checks=CHECKS.get_by_names([name]), headers=self.headers)
            except FailureGroup as group:
                for failure in group.exceptions:
                    self.report.fail(Finding(
                        operation=operation.label, check=name, title=header_title(failure, operation, response), message=failure.message,
                        code=getattr(failure, "code", ""), example=example, phase=self.phase,
                    ))
            except AssertionError as failure:
                self.report.fail(Finding(operation=operation.label, check=name, title=str(failure).split("\n", 1)[0],
                                         message=str(failure), example=example, phase=self.phase))
            else:
                self.report.passed(operation.label, name)

    # -- clean-up --------------------------------------------------------------------------------

    def on_cleanup(self, what: str, action: Callable[[], None], cost: int = 2) -> None:
        """Undo ``what`` at the end of the run, even when a check failed; ``cost`` requests are kept back for it."""
        if not self.meter.reserve(cost):
            self.report.note(f"budget too small to reserve clean-up for {what}")
        self.cleanups.append((what, action))
        self.report.created.append(what)

    def run_cleanups(self) -> None:
        while self.cleanups:
            what, action = self.cleanups.pop()
            try:
                action()
            except Exception as exc:
                self.report.cleanup.append((what, False, f"{type(exc).__name__}: {exc}"))
            else:
                self.report.cleanup.append((what, True, ""))


def header_title(failure: Any, operation: Any = None, response: Any = None) -> str:
    """A failure's title; for a header check it names the header (schemathesis' own title does not)."""
    missing = getattr(failure, "missing_headers", None)
    if missing:
        return f"Missing required header(s): {', '.join(missing)}"
    if failure.title != "Response header does not conform to the schema" or operation is None or response is None:
        return str(failure.title)
    from schemathesis.specs.openapi.checks import _coerce_header_value

    definition = operation.responses.find_by_status_code(response.status_code)
    names = []
    for name, header in (definition.headers.items() if definition is not None else []):
        value = response.headers.get(name)
        if value is None or header.unresolvable_reference is not None:
            continue
        coerced = _coerce_header_value(value, header.schema, explode=header.definition.get("explode", False))
        if any(True for _ in header.validator.iter_errors(coerced)):
            names.append(f"{name}: {value!r}")
    return f"Response header does not conform to the schema ({', '.join(names)})" if names else str(failure.title)


def spec_operation_ids(document: dict[str, Any]) -> set[str]:
    """The operationIds of every operation in a spec document."""
    return {op["operationId"] for item in document.get("paths", {}).values() if isinstance(item, dict)
            for op in item.values() if isinstance(op, dict) and "operationId" in op}


def operation_ids(schema: OpenApiSchema) -> set[str]:
    """The operationIds of every operation in ``schema``."""
    ids = set()
    for result in schema.get_all_operations():
        operation_id = result.ok().definition.raw.get("operationId")  # type: ignore[union-attr]  # an Err raises, as meant
        if operation_id:
            ids.add(operation_id)
    return ids


def _auth_flags(profile: Profile) -> list[str]:
    """The run's credential headers as curl flags whose values are environment variables (never the key itself)."""
    marker = "\x00KEY\x00"
    flags = [f'-H "{name}: {value.replace(marker, "$" + profile.key_env[0])}"' for name, value in profile.auth(marker).items()]
    flags += [f'-H "{name}: ${var}"' for name, (var, _default) in profile.extra_headers.items()]
    return flags


def _curl(method: str, url: str, query: dict[str, Any] | None, json_body: Any, files: Any, data: Any,
          auth: list[str] | None = None) -> str:
    target = url + ("?" + urlencode(query, doseq=True) if query else "")
    parts = [f"curl -X {method} '{target}'", *(auth or [])]
    if json_body is not None:
        parts.append(f"-H 'Content-Type: application/json' -d '{json.dumps(json_body)}'")
    for key, value in (data or {}).items():
        parts.append(f"-F '{key}={value}'")
    for key, (filename, _, media) in (files or {}).items():
        parts.append(f"-F '{key}=@{filename};type={media}'")
    return " ".join(parts)
