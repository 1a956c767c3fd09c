"""Round-trip truth: probes that hold a server to what it was told and make two of its operations agree.

Each probe sends a few requests of its own (through ``Api.call``, so every answer is also checked against the
spec and by the observer and the ledger) and reports under its own check:

- ``unknown_id_404``: every ``GET/POST/DELETE .../{id}`` with a well-formed id that does not exist answers 404 (or the
  status the profile documents) in the provider's own error envelope, not 200, 400 or a framework's ``{"detail": ...}``
- ``unknown_reference_refused``: a create that names an object that does not exist (an input file, an agent) is refused
- ``deleted_gone``: after a delete, a read answers 404 and no list holds the object
- ``list_filter``: a list filter returns only matching objects, and every matching object the run created
- ``output_matches_file`` (and other provider comparisons, ``Profile.compare_results``): two operations agree

``PROBES`` maps each check to the probe that makes it, so ``--replay`` runs the probe again after the finding's steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .report import Finding

if TYPE_CHECKING:
    from .api import Api, Exchange
    from .profiles import Filter, Resource

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _fail(api: Api, label: str, check: str, problems: list[str], example: str = "") -> None:
    """Report a probe's verdict; a finding carries the run's creates (its data) and the probe's own steps."""
    from .reproduce import steps_of

    if not problems:
        api.report.passed(label, check)
        return
    steps = steps_of([s for s in api.setup if s not in api.story] + api.story)
    for problem in problems:
        api.report.fail(Finding(operation=label, check=check, title=problem, message=problem, example=example or api.script(),
                                phase=api.phase, steps=steps))


# -- unknown ids --------------------------------------------------------------------------------------


def unknown_value(api: Api, param: str, schema: dict[str, Any]) -> Any:
    """A well-formed id that does not exist: an integer far beyond any issued one, or a known id's shape with zeros."""
    if schema.get("type") == "integer":
        return 987_654_321
    known = [ident for (_name, ident) in api.observer.seen if isinstance(ident, str) and not ident.isdigit()]
    for resource in api.profile.resources:
        if resource.retrieve and resource.retrieve[1] == param:
            mine = [ident for (name, ident) in api.observer.seen if name == resource.name]
            if mine:
                known = mine
                break
    else:
        known = []
    if known:
        sample = known[-1]
        cut = max(sample.rfind("_"), sample.rfind("-"))
        head, tail = sample[: cut + 1], sample[cut + 1 :]
        if tail.isdigit():
            return head + str(int(tail) + 987_654_321)
        return head + "0" * max(len(tail), 8)
    return param.removesuffix("_id").replace("_", "-") + "-mockserver-unknown-00000000"


def _envelope_keys(schema: Any) -> set[str]:
    """The top-level property names an error schema declares (anyOf/oneOf/allOf merged)."""
    if not isinstance(schema, dict):
        return set()
    keys = set((schema.get("properties") or {}).keys())
    for combinator in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(combinator) or []:
            keys |= _envelope_keys(part)
    return keys


def _declared(operation: Any, status: int) -> dict[str, Any] | None:
    """The resolved JSON schema of the operation's answer for ``status``, or None."""
    responses = operation.definition.raw.get("responses", {})
    response = responses.get(str(status))
    if response is None:
        return None
    ref = response.get("$ref") if isinstance(response, dict) else None
    if ref:
        response = _resolve(operation.schema.raw_schema, ref)
    content = (response or {}).get("content", {})
    media = (content.get("application/json") or next(iter(content.values()), None)) if content else None
    schema = _deref(operation.schema.raw_schema, (media or {}).get("schema"))
    return schema if isinstance(schema, dict) else None


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _deref(document: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    if depth > 8 or not isinstance(schema, (dict, list)):
        return schema
    if isinstance(schema, list):
        return [_deref(document, s, depth + 1) for s in schema]
    if "$ref" in schema:
        return _deref(document, _resolve(document, schema["$ref"]), depth + 1)
    return {k: _deref(document, v, depth + 1) if k in ("anyOf", "oneOf", "allOf") else v for k, v in schema.items()}


def check_unknown_ids(api: Api, writes: bool) -> None:
    """Every operation on one id, with an id that does not exist: 404 (or the documented status) in the provider's envelope."""
    from .api import NotAllowed

    for operation_id in sorted(api.operations):
        operation = api.schema.find_operation_by_id(operation_id)
        raw = operation.definition.raw
        method = operation.method.upper()
        params = [p for p in [*_path_level(api, operation), *raw.get("parameters", [])] if isinstance(p, dict) and p.get("in") == "path"]
        params = list({p["name"]: p for p in params}.values())
        if not operation_id or not params or (api.allowed is not None and operation_id not in api.allowed):
            continue
        if method in WRITE_METHODS and (not writes or (raw.get("requestBody") or {}).get("required")):
            continue  # a write needs --allow-writes; one that needs a body would be refused for the body first
        statuses = api.profile.unknown_id_statuses.get(operation_id)
        if statuses is None:
            if "404" not in raw.get("responses", {}):
                continue
            statuses = (404,)
        path = {p["name"]: unknown_value(api, p["name"], p.get("schema") or {}) for p in params}
        try:
            exchange = api.call(operation_id, path=path)
        except NotAllowed:
            continue
        _judge_unknown(api, exchange, operation, statuses, path)


def _path_level(api: Api, operation: Any) -> list[Any]:
    item = api.schema.raw_schema.get("paths", {}).get(operation.path, {})
    return list(item.get("parameters", [])) if isinstance(item, dict) else []


def _judge_unknown(api: Api, exchange: Exchange, operation: Any, statuses: tuple[int, ...], path: dict[str, Any]) -> None:
    ids = ", ".join(f"{k}={v}" for k, v in path.items())
    problems = []
    if exchange.status not in statuses:
        body = exchange.body if exchange.body is not None else ""
        problems.append(f"{exchange.label} with an id that does not exist ({ids}) answered {exchange.status} "
                        f"{str(body)[:120]!r}; expected {'/'.join(map(str, statuses))} in the provider's error envelope")
    else:
        envelope = _envelope_keys(_declared(operation, exchange.status))
        if envelope and not (isinstance(exchange.body, dict) and envelope & set(exchange.body)):
            problems.append(f"{exchange.label} with an id that does not exist ({ids}) answered {exchange.status}, but not in "
                            f"the provider's error envelope (a JSON object with {' or '.join(sorted(envelope))}): "
                            f"{str(exchange.body)[:120]!r}")
    _fail(api, exchange.label, "unknown_id_404", problems)


# -- references, deletes, filters ---------------------------------------------------------------------


def check_refused(api: Api, exchange: Exchange, what: str) -> bool:
    """Report ``unknown_reference_refused`` for a create that named an object that does not exist; True if it was accepted."""
    accepted = exchange.ok()
    problems = [] if 400 <= exchange.status < 500 else [
        f"{exchange.label} naming {what} answered {exchange.status}"
        + (": the server accepted a reference to an object that does not exist" if accepted else "; expected a 4xx refusal")]
    _fail(api, exchange.label, "unknown_reference_refused", problems)
    return accepted


def check_deleted(api: Api) -> None:
    """Delete one object the run created; then a read answers 404 and the first (whole) page of its list lacks it."""
    for resource in api.profile.resources:
        if resource.delete is None or resource.retrieve is None or not api.has(resource.delete):
            continue
        if api.allowed is not None and resource.delete not in api.allowed:
            continue
        mine = list((api.ledger.created if api.ledger else {}).get(resource.name, {}))
        if not mine:
            continue
        ident = mine[0]
        _delete_and_look(api, resource, ident)


def _delete_and_look(api: Api, resource: Resource, ident: str) -> None:
    assert resource.retrieve is not None and resource.delete is not None
    operation_id, param = resource.retrieve
    deleted = api.call(resource.delete, path={param: ident})
    problems = []
    if not deleted.ok():
        problems.append(f"{deleted.label} of {resource.name} {ident}, created in this run, answered {deleted.status}")
        _fail(api, deleted.label, "deleted_gone", problems)
        return
    after = api.call(operation_id, path={param: ident})
    if after.status != 404:
        problems.append(f"{resource.name} {ident} was deleted ({deleted.label} answered {deleted.status}), but {after.label} "
                        f"then answered {after.status}, not 404")
    listing = _listing(api, resource)
    if listing is not None:
        exchange, items, complete = listing
        if ident in items:
            problems.append(f"{resource.name} {ident} was deleted, but {exchange.label} still lists it")
    _fail(api, deleted.label, "deleted_gone", problems)


def _listing(api: Api, resource: Resource, query: dict[str, Any] | None = None) -> tuple[Exchange, dict[str, dict[str, Any]], bool] | None:
    """The first page (as large as allowed) of the resource's list: (answer, id -> item, whether it is the whole list)."""
    pagination = next((p for p in api.profile.pagination if any(v.operation_id == p.operation_id and v.many for v in resource.views)), None)
    if pagination is None or (api.allowed is not None and pagination.operation_id not in api.allowed):
        return None
    params = dict(pagination.query(api.context) if pagination.query else {})
    params[pagination.limit_param] = pagination.max_limit
    params.update(query or {})
    exchange = api.call(pagination.operation_id, query=params)
    if not exchange.ok() or not isinstance(exchange.body, dict):
        return None
    view = next(v for v in resource.views if v.operation_id == pagination.operation_id and v.many)
    items = dict(api.observer.extract(resource, view, exchange.body, {}))
    complete = not pagination.has_more or exchange.body.get(pagination.has_more) is False
    return exchange, items, complete


def _other(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1_000_003
    return f"{value}_mockserver_other"


def check_filters(api: Api, only: str | None = None) -> None:
    """Each list filter, with the value of an object the run created and with a value none of them has."""
    for flt in api.profile.filters:
        if only is not None and flt.operation_id != only:
            continue
        _check_filter(api, flt)


def _check_filter(api: Api, flt: Filter) -> None:
    resource = api.profile.resource(flt.resource)
    mine = {ident: api.observer.seen.get((resource.name, ident)) for ident in (api.ledger.created if api.ledger else {}).get(resource.name, {})}
    values = {ident: snap.values.get(flt.field) for ident, snap in mine.items() if snap is not None and snap.values.get(flt.field) is not None}
    if not values or (api.allowed is not None and flt.operation_id not in api.allowed):
        return
    value = next(iter(values.values()))
    matching = sorted(ident for ident, v in values.items() if v == value)
    for wanted, expect_mine in ((value, matching), (_other(value), [])):
        listing = _listing(api, resource, {flt.param: wanted})
        if listing is None:
            continue
        exchange, items, complete = listing
        problems = [f"{exchange.label} with {flt.param}={wanted} lists {resource.name} {ident}, whose {flt.field} is "
                    f"{item.get(flt.field)!r}" for ident, item in items.items() if not _matches(item.get(flt.field), wanted)][:3]
        if complete:
            problems += [f"{exchange.label} with {flt.param}={wanted} (the whole list) lacks {resource.name} {ident}, created in "
                         f"this run with {flt.field} = {wanted!r}" for ident in expect_mine if ident not in items]
        _fail(api, exchange.label, "list_filter", problems)


def _matches(got: Any, wanted: Any) -> bool:
    return got == wanted or str(got) == str(wanted)


def check_unknown_references(api: Api) -> None:
    from .api import NotAllowed

    if api.profile.probe_unknown_reference is None:
        return
    try:
        api.profile.probe_unknown_reference(api)
    except NotAllowed as exc:
        api.report.note(f"unknown-reference probe skipped: {exc}")


# check -> the probe that makes its findings, run again by --replay after the finding's own steps
PROBES: dict[str, Callable[[Api, dict[str, Any]], None]] = {
    "unknown_id_404": lambda api, finding: check_unknown_ids(api, writes=True),
    "deleted_gone": lambda api, finding: check_deleted(api),
    "list_filter": lambda api, finding: check_filters(api),
    "unknown_reference_refused": lambda api, finding: check_unknown_references(api),
}
