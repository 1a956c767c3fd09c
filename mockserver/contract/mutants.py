"""Planted faults: the fake wrapped in ASGI middleware that breaks its contract, to prove the kit catches them.

No line of the fake changes: each fault rewrites requests on the way in or answers on the way out of
``create_app()``. The kit is pointed at the wrapped server with ``--base-url`` (as at a real provider,
writes allowed) and must exit non-zero naming the operation and check the fault breaks; the score is
caught / planted. The unmodified fake, served the same way, must pass.
"""

from __future__ import annotations

import datetime
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, cast
from urllib.parse import parse_qsl, urlencode

import uvicorn

from ..spec.loader import load_yaml, specs_dir
from .profiles import Profile, Resource, as_time, get_profile
from .report import Report
from .runner import Options, run_contract


@dataclass
class Exchange:
    """One request through the wrapper, as a fault sees it."""

    method: str
    path: str  # relative to the provider's base URL
    operation_id: str | None
    path_params: dict[str, str]
    query: list[tuple[str, str]]
    headers: list[tuple[bytes, bytes]]


class Fault:
    """Override ``request`` to change what the fake receives, ``response`` to change what it answers."""

    def request(self, exchange: Exchange) -> None:
        return None

    def response(self, exchange: Exchange, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        return status, headers, body


class _Routes:
    """operationId of a method and path, from the provider's spec."""

    def __init__(self, spec_name: str) -> None:
        document = load_yaml((specs_dir() / f"{spec_name}.yaml").read_text())
        self.routes: list[tuple[str, re.Pattern[str], str]] = []
        for path, item in document.get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")
            for method, operation in item.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    self.routes.append((method.upper(), pattern, operation["operationId"]))
        # static segments first, as the fake routes them
        self.routes.sort(key=lambda r: r[1].pattern.count("(?P<"))

    def match(self, method: str, path: str) -> tuple[str | None, dict[str, str]]:
        for verb, pattern, operation_id in self.routes:
            m = pattern.match(path)
            if m and verb == method:
                return operation_id, m.groupdict()
        return None, {}


class FaultApp:
    """ASGI wrapper applying one fault to the requests of one provider (others pass untouched)."""

    def __init__(self, app: Any, prefix: str, spec_name: str, fault: Fault) -> None:
        self.app = app
        self.prefix = prefix
        self.routes = _Routes(spec_name)
        self.fault = fault

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix + "/"):
            await self.app(scope, receive, send)
            return
        path = scope["path"][len(self.prefix):]
        operation_id, params = self.routes.match(scope["method"], path)
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        exchange = Exchange(scope["method"], path, operation_id, params, query, list(scope["headers"]))
        self.fault.request(exchange)
        scope = dict(scope, query_string=urlencode(exchange.query).encode("latin-1"), headers=exchange.headers)
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    status, headers, body = self.fault.response(exchange, started["status"], list(started.get("headers", [])), b"".join(chunks))
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"] + [(b"content-length", str(len(body)).encode())]
                    await send({"type": "http.response.start", "status": status, "headers": headers})
                    await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


# -- faults over the profile's resources --------------------------------------------------------------


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _objects(resource: Resource, operation_id: str | None, data: Any) -> list[dict[str, Any]]:
    """The resource objects inside an answer of ``operation_id`` (for in-place changes)."""
    out: list[dict[str, Any]] = []
    for view in resource.views:
        if view.operation_id != operation_id:
            continue
        node = data
        for key in view.envelope:
            node = node.get(key) if isinstance(node, dict) else None
        items = (node.get(view.items) if isinstance(node, dict) else None) if view.many else [node]
        out += [item for item in (items if isinstance(items, list) else []) if isinstance(item, dict)]
    return out


@dataclass
class ObjectFault(Fault):
    """Changes resource objects in 2xx JSON answers: ``change(obj, reads)`` with a per-object read counter."""

    resource: Resource
    change: Callable[[dict[str, Any], int], object]
    operations: frozenset[str] | None = None  # only these operationIds (None: every view of the resource)
    reads: dict[str, int] = field(default_factory=dict)

    def response(self, exchange: Exchange, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if not 200 <= status < 300 or (self.operations is not None and exchange.operation_id not in self.operations):
            return status, headers, body
        data = _json(body)
        objects = _objects(self.resource, exchange.operation_id, data)
        if not objects:
            return status, headers, body
        for obj in objects:
            key = str(obj.get(self.resource.id_field or "", id(obj)))
            self.reads[key] = self.reads.get(key, 0) + 1
            self.change(obj, self.reads[key])
        return status, headers, json.dumps(data).encode()


@dataclass
class AnswerFault(Fault):
    """Replaces the status, content type or body of the answers of some operations."""

    operations: frozenset[str]
    when: Callable[[Exchange, int], bool]
    status: int | None = None
    content_type: bytes | None = None
    body: Callable[[bytes], bytes] | None = None

    def response(self, exchange: Exchange, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if exchange.operation_id not in self.operations or not self.when(exchange, status):
            return status, headers, body
        if self.content_type is not None:
            headers = [(k, v) for k, v in headers if k.lower() != b"content-type"] + [(b"content-type", self.content_type)]
        return (self.status or status), headers, (self.body(body) if self.body else body)


@dataclass
class RequestFault(Fault):
    rewrite: Callable[[Exchange], None]

    def request(self, exchange: Exchange) -> None:
        self.rewrite(exchange)


@dataclass
class HideCreated(Fault):
    """The first read of a just-created resource answers 404 (as an eventually consistent store might)."""

    resource: Resource
    create_ops: frozenset[str]
    pending: set[str] = field(default_factory=set)

    def response(self, exchange: Exchange, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if exchange.operation_id in self.create_ops and 200 <= status < 300:
            self.pending |= {str(o.get(self.resource.id_field or "")) for o in _objects(self.resource, exchange.operation_id, _json(body))}
        elif self.resource.retrieve and exchange.operation_id == self.resource.retrieve[0]:
            ident = exchange.path_params.get(self.resource.retrieve[1])
            if ident in self.pending:
                self.pending.discard(ident)
                return 404, [(b"content-type", b"application/json")], b'{"error": {"code": 404, "message": "not found", "type": "not_found"}}'
        return status, headers, body


# -- the catalogue ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str
    expected: tuple[tuple[str, str], ...]  # (operationId, check): the kit must report at least one of them
    make: Callable[[Profile, str], Fault]  # (profile, the accepted key) -> fault
    applies: Callable[[Profile], bool] = lambda profile: True


def _batch(profile: Profile) -> Resource:
    """The main stateful resource (the one the create flow makes)."""
    return next(r for r in profile.resources if r.lifecycle is not None)


def _ops(resource: Resource, many: bool | None = None) -> frozenset[str]:
    return frozenset(v.operation_id for v in resource.views if many is None or v.many == many)


def _list_op(profile: Profile) -> str:
    resource = _batch(profile)
    return next(p.operation_id for p in profile.pagination if p.operation_id in _ops(resource, many=True))


def _created_field(resource: Resource) -> str:
    """The creation timestamp: the initial state's timestamp, else the first stable field about creation."""
    if resource.lifecycle:
        initial = resource.state_timestamps.get(next(iter(resource.lifecycle.initial)))
        if initial:
            return initial
    return next((name for name in resource.stable if "creat" in name), "created_at")


def _retype(value: Any) -> Any:
    return str(value) if isinstance(value, (int, float)) else 1767225600


def _counters(resource: Resource) -> list[str]:
    return [name for name in resource.monotonic if "timestamp" not in name and not name.endswith("_at")]


def _set(obj: dict[str, Any], dotted: str, change: Callable[[Any], Any]) -> bool:
    """Change the number at ``dotted`` in place; False if there is none."""
    *parents, last = dotted.split(".")
    for part in parents:
        obj = cast("dict[str, Any]", obj.get(part)) if isinstance(obj.get(part), dict) else {}
    if last in obj and isinstance(obj[last], int) and not isinstance(obj[last], bool):
        obj[last] = change(obj[last])
        return True
    return False


def _get(obj: dict[str, Any], dotted: str) -> Any:
    node: Any = obj
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _lower_a_counter(resource: Resource) -> Callable[[dict[str, Any], int], None]:
    """On every other read, the first counter above zero is one lower."""

    def change(obj: dict[str, Any], reads: int) -> None:
        if reads % 2 == 0:
            name = next((n for n in _counters(resource) if isinstance(_get(obj, n), int) and _get(obj, n) > 0), None)
            if name is not None:
                _set(obj, name, lambda v: v - 1)

    return change


def _auth_rewrite(profile: Profile, key: str) -> Callable[[Exchange], None]:
    names = {name.lower().encode() for name in profile.auth("x")}

    def rewrite(exchange: Exchange) -> None:
        headers = []
        for name, value in exchange.headers:
            if name.lower() in names and value:
                value = profile.auth(key)[next(n for n in profile.auth(key) if n.lower().encode() == name.lower())].encode()
            headers.append((name, value))
        exchange.headers = headers

    return rewrite


def _clamp_limit(profile: Profile) -> Callable[[Exchange], None]:
    listing = next(p for p in profile.pagination if p.operation_id == _list_op(profile))

    def rewrite(exchange: Exchange) -> None:
        if exchange.operation_id != listing.operation_id:
            return
        fixed = []
        for name, value in exchange.query:
            if name == listing.limit_param:
                try:
                    number = int(value)
                except ValueError:
                    continue  # a limit that is not a number: dropped, the default applies
                value = str(min(max(number, 1), listing.max_limit))
            fixed.append((name, value))
        exchange.query = fixed

    return rewrite


def _flip_status(backwards: str, when: Callable[[str, Profile], bool]) -> Callable[[Profile, str], Fault]:
    def make(profile: Profile, key: str) -> Fault:
        resource = _batch(profile)

        def change(obj: dict[str, Any], reads: int) -> None:
            status = obj.get(resource.status or "")
            if reads % 2 == 0 and isinstance(status, str) and when(status, profile):
                obj[resource.status or "status"] = next(iter(resource.lifecycle.initial)) if backwards == "initial" else backwards  # type: ignore[union-attr]

        return ObjectFault(resource, change, _ops(resource, many=False))

    return make


def _not_initial(status: str, profile: Profile) -> bool:
    lifecycle = _batch(profile).lifecycle
    return lifecycle is not None and status not in lifecycle.initial and status not in lifecycle.terminal


def _terminal(status: str, profile: Profile) -> bool:
    lifecycle = _batch(profile).lifecycle
    return lifecycle is not None and status in lifecycle.terminal


def _middle_states(profile: Profile) -> list[str]:
    lifecycle = _batch(profile).lifecycle
    assert lifecycle is not None
    return sorted(s for s in lifecycle.states if s not in lifecycle.initial and s not in lifecycle.terminal)


def _active_state(profile: Profile) -> str:
    """A state a finished resource must never show again: a running one, else the initial one."""
    lifecycle = _batch(profile).lifecycle
    assert lifecycle is not None
    return (_middle_states(profile) or sorted(lifecycle.initial))[0]


def _later(value: Any, seconds: int) -> Any:
    """A timestamp moved ``seconds`` later: epoch numbers or ISO-8601 strings."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value + seconds
    moment = as_time(value)
    if moment is None:
        return value
    return datetime.datetime.fromtimestamp(moment + seconds, datetime.UTC).isoformat().replace("+00:00", "Z")


def _required(profile: Profile, field_name: str) -> bool:
    document = load_yaml((specs_dir() / f"{profile.spec}.yaml").read_text())
    return any(field_name in (schema.get("required") or []) for schema in document.get("components", {}).get("schemas", {}).values()
               if isinstance(schema, dict))


def _retrieve(profile: Profile) -> str:
    resource = _batch(profile)
    assert resource.retrieve is not None
    return resource.retrieve[0]


def _create_ops(profile: Profile) -> frozenset[str]:
    resource = _batch(profile)
    return frozenset(v.operation_id for v in resource.views if not v.many) - {resource.retrieve[0] if resource.retrieve else ""}


CATALOGUE: tuple[Mutant, ...] = (
    Mutant("wrong_type", "the creation timestamp of the resource comes back with the wrong JSON type",
           (("retrieve", "response_schema_conformance"), ("list", "response_schema_conformance")),
           lambda p, k: ObjectFault(_batch(p), lambda o, n: o.__setitem__(_created_field(_batch(p)), _retype(o.get(_created_field(_batch(p)))))
                                    if _created_field(_batch(p)) in o else None)),
    Mutant("missing_required", "the required status field is left out of the resource",
           (("retrieve", "response_schema_conformance"), ("list", "response_schema_conformance")),
           lambda p, k: ObjectFault(_batch(p), lambda o, n: o.pop(_batch(p).status or "status", None)),
           applies=lambda p: _required(p, _batch(p).status or "status")),
    Mutant("unknown_enum", "the status takes a value its enum does not have",
           (("retrieve", "response_schema_conformance"), ("list", "response_schema_conformance"), ("retrieve", "legal_transitions")),
           lambda p, k: ObjectFault(_batch(p), lambda o, n: o.__setitem__(_batch(p).status or "status", "paused") if _batch(p).status in o else None)),
    Mutant("undocumented_status", "the list answers 206, a status its spec does not declare",
           (("list", "status_code_conformance"),),
           lambda p, k: AnswerFault(frozenset({_list_op(p)}), lambda e, s: s == 200, status=206)),
    Mutant("wrong_content_type", "the list answers JSON labelled text/plain",
           (("list", "content_type_conformance"),),
           lambda p, k: AnswerFault(frozenset({_list_op(p)}), lambda e, s: s == 200, content_type=b"text/plain; charset=utf-8")),
    Mutant("server_error", "reading an unknown id crashes with 500 instead of answering 404",
           (("retrieve", "not_a_server_error"),),
           lambda p, k: AnswerFault(frozenset({_retrieve(p)}), lambda e, s: s == 404, status=500)),
    Mutant("invalid_input_accepted", "an out-of-range or malformed list limit is silently clamped instead of rejected",
           (("list", "negative_data_rejection"),),
           lambda p, k: RequestFault(_clamp_limit(p))),
    Mutant("wrong_key_accepted", "any non-empty API key is accepted (rewritten to the right one)",
           (("list", "ignored_auth"), ("retrieve", "ignored_auth")),
           lambda p, k: RequestFault(_auth_rewrite(p, k))),
    Mutant("illegal_transition", "every other read of a running resource shows it back in its initial state",
           (("retrieve", "legal_transitions"),),
           _flip_status("initial", _not_initial),
           applies=lambda p: bool(_middle_states(p))),
    Mutant("terminal_not_terminal", "every other read of a finished resource shows it running again",
           (("retrieve", "terminal_stays_terminal"),),
           lambda p, k: _flip_status(_active_state(p), _terminal)(p, k)),
    Mutant("decreasing_counter", "every other read shows the first counter one lower than before",
           (("retrieve", "counters_monotonic"),),
           lambda p, k: ObjectFault(_batch(p), _lower_a_counter(_batch(p)), _ops(_batch(p), many=False)),
           applies=lambda p: bool(_counters(_batch(p)))),
    Mutant("counters_do_not_add_up", "the failed counter exceeds the total",
           (("retrieve", "counters_consistent"), ("list", "counters_consistent")),
           lambda p, k: ObjectFault(_batch(p), lambda o, n: _set(o, _counters(_batch(p))[-1], lambda v: v + 1000)),
           applies=lambda p: bool(_counters(_batch(p))) and _batch(p).consistency is not None),
    Mutant("timestamp_moves", "the creation timestamp moves forward on every read",
           (("retrieve", "timestamps_stable"),),
           lambda p, k: ObjectFault(_batch(p), lambda o, n: o.__setitem__(_created_field(_batch(p)), _later(o[_created_field(_batch(p))], n))
                                    if _created_field(_batch(p)) in o else None, _ops(_batch(p), many=False)),
           applies=lambda p: _created_field(_batch(p)) in _batch(p).stable),
    Mutant("has_more_lies", "the list's has_more says the opposite of the truth",
           (("list", "pagination_consistent"),),
           lambda p, k: AnswerFault(frozenset({_list_op(p)}), lambda e, s: s == 200,
                                    body=lambda b: json.dumps({**json.loads(b), "has_more": not json.loads(b).get("has_more")}).encode()),
           applies=lambda p: any(x.has_more for x in p.pagination if x.operation_id == _list_op(p))),
    Mutant("created_not_found", "a just-created resource is not found on its first read",
           (("retrieve", "created_readable"),),
           lambda p, k: HideCreated(_batch(p), _create_ops(p))),
)


def expected_labels(profile: Profile, mutant: Mutant) -> set[tuple[str, str]]:
    """The (operation label, check) pairs for a mutant's expectations on ``profile``."""
    routes = {op: f"{verb} {path}" for verb, path, op in spec_operations(profile)}
    names = {"retrieve": _retrieve(profile), "list": _list_op(profile)}
    return {(routes[names.get(op, op)], check) for op, check in mutant.expected if names.get(op, op) in routes}


def spec_operations(profile: Profile) -> list[tuple[str, str, str]]:
    document = load_yaml((specs_dir() / f"{profile.spec}.yaml").read_text())
    return [(m.upper(), path, op["operationId"]) for path, item in document["paths"].items() for m, op in item.items()
            if isinstance(op, dict) and "operationId" in op]


# -- serving and scoring -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: Any, lifespan: Literal["on", "off"] = "off") -> Iterator[str]:
    """Any ASGI app on a free loopback port in a thread (like LiveServer); yields its URL. ``lifespan="on"`` runs
    the app's startup and shutdown (an app that finishes its work at shutdown, like the recording proxy)."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan=lifespan))
    thread = threading.Thread(target=server.run, name=f"mutant:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the served app did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# a served fake's clock: fast enough that lifecycles end within a few seconds of polling, slow enough that every
# state lasts several polls even on a busy machine (the kit polls it in real time, as it would a real provider)
MUTANT_CLOCK_SPEED = 10.0


@contextmanager
def mutant_server(provider: str, key: str, mutant: Mutant | None, clock_speed: float = MUTANT_CLOCK_SPEED) -> Iterator[str]:
    """The fake (accepting only ``key``), wrapped in ``mutant``'s fault; yields the provider's base URL."""
    from ..core.settings import Settings
    from ..server.app import create_app
    from .runner import quiet_fake

    profile = get_profile(provider)
    app = create_app(Settings(api_keys={provider: (key,)}, clock_speed=clock_speed, response_validation="strict"))
    prefix = app.state.providers[provider].prefix
    wrapped = FaultApp(app, prefix, profile.spec, mutant.make(profile, key)) if mutant else app
    with quiet_fake(), serve(wrapped) as url:
        yield url + prefix


# the kit's settings against a planted fault: as against a real provider (a URL, writes allowed), kept small
MUTANT_OPTIONS = Options(max_examples=5, flows=2, poll_timeout=3.0, poll_interval=0.05, phases=("coverage", "fuzzing"),
                         shrink=False)
MUTANT_BUDGET = 1500


@dataclass
class Verdict:
    mutant: str
    description: str
    caught: bool
    expected: set[tuple[str, str]]
    reported: set[tuple[str, str]]
    exit_code: int

    @property
    def by(self) -> set[tuple[str, str]]:
        return self.expected & self.reported


def check_mutant(provider: str, mutant: Mutant | None, options: Options = MUTANT_OPTIONS, budget: int = MUTANT_BUDGET) -> tuple[Report, set[tuple[str, str]]]:
    """Run the kit against the fake with ``mutant`` planted (None: unmodified); the report and the expected pairs."""
    key = "sk-mutant-" + str(abs(hash((provider, mutant.name if mutant else ""))))[:12]
    with mutant_server(provider, key, mutant) as url:
        report = run_contract(provider, base_url=url, api_key=key, allow_writes=True, budget=budget, options=options, environ={})
    profile = get_profile(provider)
    return report, (expected_labels(profile, mutant) if mutant else set())


def score(provider: str, mutants: tuple[Mutant, ...] = CATALOGUE, options: Options = MUTANT_OPTIONS,
          budget: int = MUTANT_BUDGET) -> tuple[Report, list[Verdict]]:
    """The unmodified fake's report, and for each applicable mutant whether the kit caught it."""
    profile = get_profile(provider)
    clean, _ = check_mutant(provider, None, options, budget)
    verdicts = []
    for mutant in mutants:
        if not mutant.applies(profile):
            continue
        report, expected = check_mutant(provider, mutant, options, budget)
        reported = report.failing()
        verdicts.append(Verdict(mutant.name, mutant.description, report.exit_code != 0 and bool(expected & reported),
                                expected, reported, report.exit_code))
    return clean, verdicts


def score_text(provider: str, clean: Report, verdicts: list[Verdict]) -> str:
    caught = sum(v.caught for v in verdicts)
    lines = [f"mutation score for {provider}: {caught} / {len(verdicts)} planted faults caught",
             f"  unmodified fake: {'passes' if clean.ok else 'FAILS'} ({len(clean.outcomes)} operation checks)"]
    for v in verdicts:
        by = ", ".join(f"{check} on {op}" for op, check in sorted(v.by)) or "not by the expected check"
        lines.append(f"  {'caught ' if v.caught else 'MISSED '} {v.mutant:24s} {v.description}; {by}")
    return "\n".join(lines)
