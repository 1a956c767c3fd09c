"""What the kit knows about each provider, beyond its spec: one small table per provider.

A profile says how to authenticate (and which environment variables hold the real key), where each
resource appears in responses, which lifecycle states are legal and terminal, which timestamps and
counters must behave, how lists paginate, and how to create and clean up a resource. Everything else
(operations, parameters, schemas) comes from the provider's spec in ``specs/``.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..api import Api


@dataclass(frozen=True)
class Lifecycle:
    """Legal states and direct transitions; an observation may skip states but never go against an edge."""

    initial: frozenset[str]
    edges: frozenset[tuple[str, str]]
    terminal: frozenset[str]

    @property
    def states(self) -> frozenset[str]:
        return self.initial | {s for edge in self.edges for s in edge} | self.terminal

    def reachable(self, source: str, target: str) -> bool:
        """Whether ``target`` can follow ``source`` (directly or through unobserved states)."""
        seen, todo = {source}, [source]
        while todo:
            state = todo.pop()
            if state == target:
                return True
            for a, b in self.edges:
                if a == state and b not in seen:
                    seen.add(b)
                    todo.append(b)
        return False


@dataclass(frozen=True)
class View:
    """Where a resource appears in the 2xx JSON answer of one operation."""

    operation_id: str
    many: bool = False  # a list page: the resources are the items under ``items``
    items: str = "data"
    envelope: tuple[str, ...] = ()  # keys to unwrap first, e.g. ("data",) for FormantAI
    id_from_path: str | None = None  # the id is this path parameter, not a field of the body
    partial: bool = False  # the body carries only some fields (AnyAPI's cancel answer)
    creates: bool = False  # the operation creates the resource (initial_state, distinct_ids, created_listed)


@dataclass(frozen=True)
class Pagination:
    """How one list operation pages; the kit walks it with small pages and compares with one big page."""

    operation_id: str
    style: Literal["cursor", "key", "offset", "limit"]
    items: str = "data"
    limit_param: str = "limit"
    max_limit: int = 100
    cursor_param: str | None = None  # "after" | "pagination_key" | "offset"
    has_more: str | None = "has_more"
    next_key: str | None = None  # response field with the next page's key (style "key")
    total: str | None = None  # response field with the size of the whole list (style "offset")
    query: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # fixed query, from the run's context
    # the documented sort order of the list ("desc": newest first), held across pages (``sort_order``)
    order: Literal["asc", "desc"] | None = None
    order_field: str = "created_at"
    order_param: str | None = None  # a query parameter that chooses the order (asc|desc): both are walked


@dataclass(frozen=True)
class Filter:
    """A list filter: ``param=<the field's value of a created resource>`` lists exactly the resources with that value."""

    operation_id: str
    param: str
    field: str
    resource: str


@dataclass(frozen=True)
class Resource:
    """A stateful object of the API (a batch, a test run, a metrics document)."""

    name: str
    id_field: str | None
    views: tuple[View, ...]
    retrieve: tuple[str, str] | None = None  # (operationId, path parameter) that reads one by id
    status: str | None = "status"
    lifecycle: Lifecycle | None = None
    # state -> the timestamp field that is set when the state is entered (and never moves afterwards)
    state_timestamps: dict[str, str] = field(default_factory=dict)
    # fields that never change once they have a value (ids, creation time, the input ...)
    stable: tuple[str, ...] = ()
    # dotted paths of numbers that never decrease (counters, "last modified")
    monotonic: tuple[str, ...] = ()
    # problems of one snapshot (counters that do not add up); an empty list means consistent
    consistency: Callable[[dict[str, Any]], list[str]] | None = None
    # operationId of a mutation (cancel) -> (the statuses that refuse it on a finished resource, the terminal states in
    # which repeating it is documented to be accepted and change nothing)
    mutations: dict[str, tuple[tuple[int, ...], frozenset[str]]] = field(default_factory=dict)
    # what a create's request said that the answer and every later read and list must give back unchanged:
    # (the create's invariants.Step) -> {dotted field: value}; None: nothing is checked (``round_trip``)
    echo: Callable[[Any], dict[str, Any]] | None = None
    # the unit of its integer timestamps ("s" or "ms"), checked against the answer's Date header (``timestamps_units``)
    time_unit: Literal["s", "ms"] = "s"
    # timestamp fields checked against the Date header; () means the state timestamps (``state_timestamps``)
    time_fields: tuple[str, ...] = ()
    # operationId of a mutation -> the statuses its 2xx answer documents for an unfinished resource
    # (a cancel that answers ``cancelling``), checked on the answer itself (``mutation_answer_state``)
    answers: dict[str, frozenset[str]] = field(default_factory=dict)
    # operationId that deletes one (path parameter: the retrieve's); then a read is a 404 and no list holds it
    delete: str | None = None
    # operationId that undoes one (cancel or delete): the kit calls it for every resource a generated case created
    undo: str | None = None


@dataclass(frozen=True)
class Created:
    """What a create flow made: the resource to watch and what must be undone afterwards."""

    resource: str
    id: str


@dataclass(frozen=True)
class Profile:
    name: str
    spec: str  # file name in specs/ without .yaml
    key_env: tuple[str, ...]  # environment variables that may hold the real key, first set wins
    auth: Callable[[str], dict[str, str]]  # key -> request headers
    # extra headers a real target needs (value from env var, or the default the fake accepts)
    extra_headers: dict[str, tuple[str, str]] = field(default_factory=dict)  # header -> (env var, fake default)
    resources: tuple[Resource, ...] = ()
    pagination: tuple[Pagination, ...] = ()
    # create -> watch: makes prerequisites and the resource; registers their clean-up on the Api
    create: Callable[[Api], Created] | None = None
    cancel: Callable[[Api, str], None] | None = None
    # read what hangs off a created resource while it is polled (Retell's test runs, FormantAI's metrics)
    poll_related: Callable[[Api, Created], None] | None = None
    # context a real target needs for writes or list filters: name -> (env var, the fake's default)
    context_env: dict[str, tuple[str, str]] = field(default_factory=dict)
    # body values the spec cannot express (a valid CSV ...), put into every positive generated case, per operationId
    samples: dict[str, dict[str, Any]] = field(default_factory=dict)
    # query values the spec cannot express (a parameter required only together with another), per operationId,
    # from the run's context; put into every positive generated case
    query_samples: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = field(default_factory=dict)
    # body values pinned in the stateful phase only (an upload that feeds a batch must be a batch input)
    stateful_pins: dict[str, dict[str, Any]] = field(default_factory=dict)
    write_warning: str = ""
    # operationId -> (statuses, why): answers a schema-valid request may get because of the resource's state or
    # a reference the generator cannot know (cancel of a finished batch ...), as documented in the README;
    # positive_data_acceptance accepts them for that operation only
    refusals: dict[str, tuple[tuple[int, ...], str]] = field(default_factory=dict)
    # checks over the kit's steps that only this provider needs (result files, runs, metrics): invariants.Hook
    invariants: tuple[Callable[..., None], ...] = ()
    # after a created resource finished: fetch what it produced (result files), so the invariants see it
    fetch_results: Callable[[Api, Created], None] | None = None
    # send an input that is not valid (a JSONL line that is not JSON ...): a server must refuse it, never crash
    probe_bad_input: Callable[[Api], None] | None = None
    # whether a running resource has made progress (partial results are then expected on cancel)
    progressed: Callable[[dict[str, Any]], bool] | None = None
    # operationId -> (the official SDK's model, where in the answer: "" the body, "data[]"/"items[]" each item, or a key)
    sdk_models: dict[str, tuple[str, str]] = field(default_factory=dict)
    # operationId of an upload -> a Hypothesis strategy for the file part, used by --explore (generated inputs)
    explore_files: dict[str, Callable[[Any], bytes]] = field(default_factory=dict)  # (random.Random) -> an upload
    # create with a reference to an object that does not exist (an unknown input file, agent): must be refused
    probe_unknown_reference: Callable[[Api], None] | None = None
    # list filters that must return only and every matching resource (``list_filter``)
    filters: tuple[Filter, ...] = ()
    # operationId -> the statuses a well-formed id that does not exist is answered with (default: 404)
    unknown_id_statuses: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # after a created resource finished: compare what two operations say about it (Portkey's /output and the
    # output file); the hook reports under its own check
    compare_results: Callable[[Api, Created], None] | None = None

    def key_from_env(self, environ: dict[str, str] | None = None) -> str | None:
        env = os.environ if environ is None else environ
        return next((env[name] for name in self.key_env if env.get(name)), None)

    def headers(self, key: str, environ: dict[str, str] | None = None, fake: bool = False) -> dict[str, str]:
        env = os.environ if environ is None else environ
        headers = dict(self.auth(key))
        for name, (var, default) in self.extra_headers.items():
            value = default if fake else env.get(var, default)
            headers[name] = value
        return headers

    def context(self, environ: dict[str, str] | None = None, fake: bool = False) -> dict[str, Any]:
        """Values the flows and list filters need (e.g. Retell's llm_id): from env vars, or the fake's defaults."""
        env = os.environ if environ is None else environ
        return {name: (default if fake else env.get(var, default)) for name, (var, default) in self.context_env.items()}

    def resource(self, name: str) -> Resource:
        return next(r for r in self.resources if r.name == name)

    def secrets(self, key: str, environ: dict[str, str] | None = None) -> list[str]:
        """Every value that must never be printed: the key and the extra credential headers."""
        env = os.environ if environ is None else environ
        values = [key] + [env[var] for var, _ in self.extra_headers.values() if env.get(var)]
        return [v for v in values if v]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def dig(data: Any, path: str | tuple[str, ...]) -> Any:
    """``data["a"]["b"]`` for the dotted path "a.b"; None where anything is missing."""
    for part in path.split(".") if isinstance(path, str) else path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def as_time(value: Any) -> float | None:
    """Seconds (or milliseconds) as a number, or an ISO-8601 string, as a comparable number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _registry() -> dict[str, Profile]:
    from . import anthropic, anyapi, formant, openai, phaseo, portkey, retell

    profiles = (anyapi.PROFILE, portkey.PROFILE, phaseo.PROFILE, retell.PROFILE, formant.PROFILE, openai.PROFILE, anthropic.PROFILE)
    return {p.name: p for p in profiles}


PROFILES: dict[str, Profile] = _registry()


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"no contract profile for provider {name!r} (known: {', '.join(sorted(PROFILES))})") from None
