"""Batch semantics no generic tool checks: lifecycles, counters, timestamps, pagination, read-after-create.

The observer looks at every 2xx answer the kit sees (its own calls and schemathesis' generated ones)
and remembers the last snapshot of each resource, so the checks hold over time, across operations:

- ``legal_transitions``: a status follows the previous one along the provider's lifecycle
- ``terminal_stays_terminal``: a finished resource never changes status again
- ``counters_consistent``: counters add up in every snapshot
- ``counters_monotonic``: counters (and "last modified" stamps) never decrease
- ``timestamps_consistent``: the timestamp of the current state is set, those of states not reached are not
- ``timestamps_stable``: a timestamp or identity field never moves once set
- ``pagination_consistent``: walking a list page by page neither skips nor repeats, ``has_more`` tells the truth
- ``created_readable``: a created resource can be read back at once
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from .profiles import Created, Pagination, Profile, Resource, View, as_time, dig
from .report import Finding, Report

if TYPE_CHECKING:
    from .api import Api


@dataclass
class Snapshot:
    status: str | None
    values: dict[str, Any] = field(default_factory=dict)


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(obj, dict):
        for key, value in obj.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict):
                out.update(_flatten(value, path + "."))
            out[path] = value
    return out


class Observer:
    """Remembers the last snapshot of every resource it saw and checks each new one against it."""

    def __init__(self, profile: Profile, report: Report) -> None:
        self.profile = profile
        self.report = report
        self.views: dict[str, list[tuple[Resource, View]]] = {}
        for resource in profile.resources:
            for view in resource.views:
                self.views.setdefault(view.operation_id, []).append((resource, view))
        self.seen: dict[tuple[str, str], Snapshot] = {}
        self.context: dict[str, Any] | None = None  # the run's context (fixed list queries), set by the runner

    # -- extraction ------------------------------------------------------------------------------

    def extract(self, resource: Resource, view: View, body: Any, path: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
        node = dig(body, view.envelope) if view.envelope else body
        items = (node.get(view.items) if isinstance(node, dict) else None) if view.many else [node]
        out = []
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            ident = path.get(view.id_from_path) if view.id_from_path else (item.get(resource.id_field) if resource.id_field else None)
            if ident is not None:
                out.append((str(ident), item))
        return out

    def observe(
        self, operation_id: str | None, label: str, path: dict[str, str], status: int, body: Any, example: str = "", phase: str = ""
    ) -> None:
        if operation_id is None or not 200 <= status < 300 or not isinstance(body, (dict, list)):
            return
        for resource, view in self.views.get(operation_id, []):
            for ident, item in self.extract(resource, view, body, path):
                self._check(resource, label, ident, item, example, phase)

    # -- checks ----------------------------------------------------------------------------------

    def _result(self, label: str, check: str, problems: list[str], resource: Resource, ident: str, example: str, phase: str) -> None:
        if not problems:
            self.report.passed(label, check)
            return
        for problem in problems:
            self.report.fail(Finding(
                operation=label, check=check, title=f"{resource.name} {ident}: {problem}", message=problem,
                example=example, phase=phase,
            ))

    def _check(self, resource: Resource, label: str, ident: str, item: dict[str, Any], example: str, phase: str) -> None:
        values = _flatten(item)
        status = item.get(resource.status) if resource.status else None
        status = status if isinstance(status, str) else None
        previous = self.seen.get((resource.name, ident))
        lifecycle = resource.lifecycle

        if resource.consistency is not None:
            self._result(label, "counters_consistent", resource.consistency(item), resource, ident, example, phase)

        if lifecycle is not None and status is not None:
            problems = []
            before = previous.status if previous is not None else None
            if status not in lifecycle.states:
                problems.append(f"status {status!r} is not a state of the lifecycle ({', '.join(sorted(lifecycle.states))})")
            elif before in lifecycle.states and before not in lifecycle.terminal and not lifecycle.reachable(before, status):
                problems.append(f"status went {before!r} -> {status!r}, which the lifecycle does not allow")
            self._result(label, "legal_transitions", problems, resource, ident, example, phase)
            if previous is not None and previous.status in lifecycle.terminal:
                problems = [] if status == previous.status else [
                    f"status went {previous.status!r} -> {status!r} after reaching the terminal state {previous.status!r}"
                ]
                self._result(label, "terminal_stays_terminal", problems, resource, ident, example, phase)

        if resource.state_timestamps and lifecycle is not None and status in lifecycle.states:
            self._result(label, "timestamps_consistent", self._timestamp_problems(resource, status, item), resource, ident, example, phase)

        if previous is not None:
            problems = []
            watched = set(resource.stable) | set(resource.state_timestamps.values())
            for name in sorted(watched):
                old = previous.values.get(name)
                if name in values and old is not None and values[name] != old:
                    problems.append(f"{name} changed from {old!r} to {values[name]!r} (it must not move once set)")
            self._result(label, "timestamps_stable", problems, resource, ident, example, phase)
            problems = []
            for name in resource.monotonic:
                before, now = previous.values.get(name), values.get(name)
                b, n = as_time(before), as_time(now)
                if b is not None and n is not None and n < b:
                    problems.append(f"{name} decreased from {before!r} to {now!r}")
            if resource.monotonic:
                self._result(label, "counters_monotonic", problems, resource, ident, example, phase)

        merged = dict(previous.values) if previous is not None else {}
        merged.update(values)
        self.seen[(resource.name, ident)] = Snapshot(status if status is not None else (previous.status if previous else None), merged)

    def _timestamp_problems(self, resource: Resource, status: str, item: dict[str, Any]) -> list[str]:
        lifecycle = resource.lifecycle
        assert lifecycle is not None
        problems = []
        states_of: dict[str, list[str]] = {}
        for state, name in resource.state_timestamps.items():
            states_of.setdefault(name, []).append(state)
        own = resource.state_timestamps.get(status)
        if own is not None and own in item and item[own] is None:
            problems.append(f"status is {status!r} but {own} is not set")
        for name, states in states_of.items():
            if name in item and item[name] is not None and not any(lifecycle.reachable(s, status) for s in states):
                problems.append(f"{name} is set but the status {status!r} does not follow {'/'.join(states)}")
        # timestamps follow the order of the lifecycle
        stamped = [(s, n, as_time(item.get(n))) for s, n in resource.state_timestamps.items() if item.get(n) is not None]
        for a, name_a, at_a in stamped:
            for b, name_b, at_b in stamped:
                if a != b and name_a != name_b and at_a is not None and at_b is not None and lifecycle.reachable(a, b) and not lifecycle.reachable(b, a):
                    if at_a > at_b:
                        problems.append(f"{name_a} ({item[name_a]}) is later than {name_b} ({item[name_b]})")
        return problems


# -- pagination -------------------------------------------------------------------------------------


def _page(api: Api, pagination: Pagination, limit: int, cursor: Any, context: dict[str, Any],
          extra: dict[str, Any] | None = None) -> tuple[list[str], Any, dict[str, Any]]:
    query = dict(pagination.query(context) if pagination.query else {})
    query.update(extra or {})
    query[pagination.limit_param] = limit
    if cursor is not None and pagination.cursor_param:
        query[pagination.cursor_param] = cursor
    exchange = api.call(pagination.operation_id, query=query)
    if not exchange.ok() or not isinstance(exchange.body, dict):
        raise _Stop(f"{exchange.label} answered {exchange.status}")
    items = exchange.body.get(pagination.items)
    if not isinstance(items, list):
        raise _Stop(f"{exchange.label}: no list under {pagination.items!r}")
    resource_ids = [_item_id(api.profile, pagination.operation_id, item) for item in items]
    return resource_ids, exchange.example, exchange.body


class _Stop(Exception):
    pass


def _item_id(profile: Profile, operation_id: str, item: Any) -> str:
    for resource in profile.resources:
        for view in resource.views:
            if view.operation_id == operation_id and view.many and resource.id_field and isinstance(item, dict):
                return str(item.get(resource.id_field))
    return repr(item)


def _contiguous(part: list[str], whole: list[str]) -> int | None:
    """Where ``part`` starts inside ``whole`` as one unbroken run; None if it does not."""
    if not part:
        return 0
    for start in range(len(whole) - len(part) + 1):
        if whole[start : start + len(part)] == part:
            return start
    return None


@dataclass
class _Walk:
    ids: list[str] = field(default_factory=list)
    complete: bool = False  # the walk reached the end of the list
    has_more: Any = None  # what the last page said
    pages: int = 0
    example: str = ""
    order: list[tuple[str, Any]] = field(default_factory=list)  # (id, the order field) of every item, as listed
    totals: list[tuple[int, Any, Any]] = field(default_factory=list)  # (offset after the page, has_more, total) per page


def _walk(api: Api, pagination: Pagination, size: int, max_pages: int, problems: list[str],
          extra: dict[str, Any] | None = None) -> _Walk:
    """Follow the list page by page (pages of ``size``), noting every contradiction in ``problems``."""
    walk = _Walk()
    cursor: Any = None
    promised = False  # the page before said there is more
    while walk.pages < max_pages:
        ids, walk.example, body = _page(api, pagination, size, cursor, api.context, extra)
        items = body.get(pagination.items)
        walk.order += [(i, item.get(pagination.order_field) if isinstance(item, dict) else None)
                       for i, item in zip(ids, items if isinstance(items, list) else []) if i not in walk.ids]
        walk.pages += 1
        where = f"page {walk.pages} (limit {size})"
        if promised and not ids:
            problems.append(f"{where} is empty, but page {walk.pages - 1} said {pagination.has_more}=true")
        if len(ids) > size:
            problems.append(f"{where} returned {len(ids)} items")
        repeated = [i for i in ids if i in walk.ids]
        if repeated:
            problems.append(f"{where} repeats {', '.join(repeated)}, already on an earlier page")
        walk.ids += [i for i in ids if i not in walk.ids]
        walk.has_more = body.get(pagination.has_more) if pagination.has_more else None
        if walk.has_more is True and len(ids) < size and pagination.style == "limit":
            problems.append(f"{where} has {len(ids)} item(s), fewer than the limit, but says has_more=true")
        if pagination.style == "limit":
            walk.complete = walk.has_more is not True
            return walk
        if walk.has_more is True and not ids:
            problems.append(f"{where} is empty but says has_more=true")
            walk.complete = True
            return walk
        more = walk.has_more if isinstance(walk.has_more, bool) else len(ids) >= size
        promised = walk.has_more is True
        if not more:
            walk.complete = True
            return walk
        if pagination.style == "cursor":
            cursor = ids[-1]
        elif pagination.style == "key":
            cursor = body.get(pagination.next_key) if pagination.next_key else None
            if cursor in (None, ""):
                problems.append(f"{where} says has_more=true but gives no {pagination.next_key}")
                return walk
        else:  # offset
            cursor = (cursor or 0) + len(ids)
            walk.totals.append((cursor, walk.has_more, body.get(pagination.total) if pagination.total else None))
    return walk


def _offset_problems(pagination: Pagination, walk: _Walk, size: int) -> list[str]:
    """A whole offset walk: each page's total is the size of the list, and has_more says whether items follow."""
    if not walk.complete or pagination.style != "offset":
        return []
    count = len(walk.ids)
    problems = []
    wrong = sorted({t for _, _, t in walk.totals if isinstance(t, int) and t != count})
    if wrong:
        problems.append(f"{pagination.total} is {', '.join(map(str, wrong))} on pages of {size}, but the whole list holds "
                        f"{count} item(s): a wrong total")
    for number, (offset, more, _total) in enumerate(walk.totals, 1):
        if isinstance(more, bool) and more != (offset < count):
            problems.append(f"page {number} (limit {size}) says {pagination.has_more}={more} after {offset} of {count} item(s)")
            break
    return problems


def _order_problems(pagination: Pagination, walk: _Walk, order: str, where: str, rank: dict[str, int]) -> list[str]:
    """The items of a whole walk follow the documented order of ``order_field``; between two items of the same time
    that the run created, the one it created later is the newer (``rank``: the order of creation)."""
    first = "newest" if order == "desc" else "oldest"
    values = [(i, as_time(v) if not isinstance(v, (int, float)) or isinstance(v, bool) else float(v)) for i, v in walk.order]
    for (a, va), (b, vb) in zip(values, values[1:]):
        if va is not None and vb is not None and ((order == "desc" and vb > va) or (order == "asc" and vb < va)):
            return [f"{where}: {b} ({pagination.order_field} {vb:g}) follows {a} ({pagination.order_field} {va:g}), which is not "
                    f"{first} first ({order})"]
    mine = [(i, v) for i, v in values if i in rank]
    for (a, va), (b, vb) in zip(mine, mine[1:]):
        if va is not None and va == vb and ((order == "desc" and rank[b] > rank[a]) or (order == "asc" and rank[b] < rank[a])):
            return [f"{where}: {b} follows {a}, though both have {pagination.order_field} {walk_value(walk, a)} and {b} was "
                    f"created {'later' if order == 'desc' else 'earlier'}, which is not {first} first ({order})"]
    return []


def walk_value(walk: _Walk, ident: str) -> Any:
    return next((v for i, v in walk.order if i == ident), None)


def _creation_rank(api: Api) -> dict[str, int]:
    """The ids the run created, in the order it created them."""
    rank: dict[str, int] = {}
    for step in api.setup:
        for resource in api.profile.resources:
            for view in resource.views:
                if view.creates and view.operation_id == step.operation_id:
                    for ident, _ in api.observer.extract(resource, view, step.body, step.path_params):
                        rank.setdefault(ident, len(rank))
    return rank


def check_pagination(api: Api, pagination: Pagination, page_size: int = 1, max_pages: int = 10) -> None:
    """Walk a list with small pages and compare it with big pages; report under ``pagination_consistent``."""
    from .reproduce import steps_of

    label = api.label(pagination.operation_id)
    problems: list[str] = []
    api.begin("pagination")
    ordered: list[str] = []
    try:
        whole = _walk(api, pagination, pagination.max_limit, max_pages, problems)
        walked = _walk(api, pagination, page_size, max_pages, problems)
        problems += _offset_problems(pagination, walked, page_size)
        if pagination.order and walked.complete:
            ordered += _order_problems(pagination, walked, pagination.order, f"pages of {page_size}", _creation_rank(api))
        if pagination.order_param:
            for order in ("asc", "desc"):
                extra = {pagination.order_param: order}
                sorted_walk = _walk(api, pagination, page_size, max_pages, problems, extra)
                if sorted_walk.complete:
                    ordered += _order_problems(pagination, sorted_walk, order, f"{pagination.order_param}={order}, pages of {page_size}",
                                               _creation_rank(api))
    except _Stop as stop:
        api.report.note(f"pagination of {label} not checked: {stop}")
        return
    steps = steps_of(api.setup + api.story)
    for problem in ordered:
        api.report.fail(Finding(operation=label, check="sort_order", title=problem, message=problem, example=walked.example,
                                phase="pagination", steps=steps))
    if pagination.order or pagination.order_param:
        if not ordered:
            api.report.passed(label, "sort_order")
    if whole.complete and walked.complete:
        start = _contiguous(walked.ids, whole.ids)
        if start is None:
            problems.append(f"pages of {page_size} gave {walked.ids}, which is not a run of the whole list {whole.ids}")
        elif pagination.style == "limit":
            if isinstance(walked.has_more, bool) and walked.has_more != (len(whole.ids) > len(walked.ids)):
                problems.append(f"a page of {len(walked.ids)} of {len(whole.ids)} items says has_more={walked.has_more}")
        elif start + len(walked.ids) != len(whole.ids):
            skipped = whole.ids[start + len(walked.ids):]
            problems.append(f"pages of {page_size} ended after {len(walked.ids)} item(s) of {len(whole.ids)} (skipped: {', '.join(skipped)})")
    for problem in problems:
        api.report.fail(Finding(operation=label, check="pagination_consistent", title=problem, message=problem,
                                example=walked.example, phase="pagination", steps=steps))
    if not problems:
        api.report.passed(label, "pagination_consistent")


# -- flows ------------------------------------------------------------------------------------------


def read(api: Api, resource: Resource, ident: str) -> tuple[int, dict[str, Any] | None]:
    assert resource.retrieve is not None
    operation_id, param = resource.retrieve
    exchange = api.call(operation_id, path={param: ident})
    items = api.observer.extract(resource, next(v for v in resource.views if v.operation_id == operation_id), exchange.body, {param: ident})
    return exchange.status, (items[0][1] if items and exchange.ok() else None)


def check_created_readable(api: Api, created: Created) -> dict[str, Any] | None:
    resource = api.profile.resource(created.resource)
    if resource.retrieve is None:
        return None
    label = api.label(resource.retrieve[0])
    status, item = read(api, resource, created.id)
    if item is None:
        message = f"{resource.name} {created.id} was just created, but reading it back answered {status}"
        api.report.fail(Finding(operation=label, check="created_readable", title=message, message=message, phase=api.phase,
                                example=f"create, then GET {resource.name} {created.id}"))
    else:
        api.report.passed(label, "created_readable")
    return item


MAX_POLLS = 200


def poll(api: Api, created: Created, timeout: float, interval: float, until_terminal: bool = True,
         until: Callable[[dict[str, Any]], bool] | None = None) -> str | None:
    """Read the resource (and what hangs off it) until it is terminal (or ``until`` holds) or ``timeout`` passes.

    Returns the last status; ``api.last_poll`` says how many reads that took and how long, really."""
    resource = api.profile.resource(created.resource)
    lifecycle = resource.lifecycle
    started = time.monotonic()
    deadline = started + timeout
    polls = 0
    status: str | None = None
    try:
        while True:
            polls += 1
            _, item = read(api, resource, created.id)
            if api.profile.poll_related is not None:
                api.profile.poll_related(api, created)
            status = cast("str | None", item.get(resource.status) if item and resource.status else None)
            if lifecycle is None or status not in lifecycle.states:
                return status  # nothing to wait for: unreadable, or a status the lifecycle does not know (reported)
            if until is not None and item is not None and until(item):
                return status
            if (until_terminal and status in lifecycle.terminal) or time.monotonic() >= deadline or polls >= MAX_POLLS:
                return status
            if api.tick is not None:
                api.tick()  # the kit's own fake: move its clock instead of waiting
            else:
                time.sleep(interval)
    finally:
        api.last_poll = (polls, time.monotonic() - started)


def check_listed(api: Api, created: Created) -> None:
    """List the resource's collection right after the create (the invariants check the new one is in it)."""
    resource = api.profile.resource(created.resource)
    listing = next((p for p in api.profile.pagination if any(v.operation_id == p.operation_id and v.many for v in resource.views)), None)
    if listing is None or (api.allowed is not None and listing.operation_id not in api.allowed):
        return
    query = dict(listing.query(api.context) if listing.query else {})
    query[listing.limit_param] = listing.max_limit
    api.call(listing.operation_id, query=query)


def run_flows(api: Api, count: int, timeout: float, interval: float) -> None:
    """``count`` create -> read -> list -> poll -> cancel flows, in three kinds: cancel at once; let the resource
    finish, fetch its results and try to cancel it then (a finished resource must refuse); cancel once it has
    made progress (partial results). Each flow is its own story: a finding carries the steps of its flow."""
    from .api import NotAllowed

    profile = api.profile
    if profile.create is None:
        api.report.note(f"{profile.name}: no create flow in the profile")
        return
    for number in range(count):
        api.begin(f"flow {number + 1}")
        try:
            _flow(api, number, timeout, interval)
        except NotAllowed as exc:
            api.report.note(f"flows skipped: {exc}")
            return
    if profile.probe_bad_input is not None:
        api.begin("bad input")
        try:
            profile.probe_bad_input(api)
        except NotAllowed as exc:
            api.report.note(f"bad-input probe skipped: {exc}")


def _flow(api: Api, number: int, timeout: float, interval: float) -> None:
    profile = api.profile
    assert profile.create is not None
    created = profile.create(api)
    check_created_readable(api, created)
    check_listed(api, created)
    resource = profile.resource(created.resource)
    terminal = resource.lifecycle.terminal if resource.lifecycle else frozenset()
    kind = number % 3
    waited = [0, 0.0]

    def wait(**kwargs: Any) -> str | None:
        status = poll(api, created, timeout, interval, **kwargs)
        waited[0] += api.last_poll[0]
        waited[1] += api.last_poll[1]
        return status

    if kind == 0 and profile.cancel is not None:
        profile.cancel(api, created.id)
        status = wait()
    elif kind == 2 and profile.cancel is not None and profile.progressed is not None:
        status = wait(until=profile.progressed)
        if status not in terminal:
            profile.cancel(api, created.id)
            status = wait()
    else:
        status = wait()
        if status not in terminal and profile.cancel is not None:
            profile.cancel(api, created.id)
            status = wait()
    if status not in terminal:
        api.report.note(f"{resource.name} {created.id} was still {status!r} after {waited[0]} read(s) in {waited[1]:.1f}s "
                        f"of polling (limit {timeout:g}s)")
        return
    if profile.fetch_results is not None:
        profile.fetch_results(api, created)
    if profile.compare_results is not None:
        profile.compare_results(api, created)
    if profile.cancel is not None and kind == 1:
        profile.cancel(api, created.id)  # a finished resource: must be refused as documented, and change nothing
    # more reads after the end: a terminal resource must stay exactly as it is
    for _ in range(3):
        poll(api, created, 0, interval, until_terminal=False)


def observe_existing(api: Api, reads: int = 2, limit: int = 3, interval: float = 1.0) -> None:
    """Read-only lifecycle checks: list a few existing resources and read each of them again."""
    for resource in api.profile.resources:
        if resource.retrieve is None:
            continue
        listing = next((p for p in api.profile.pagination if any(v.operation_id == p.operation_id and v.many for v in resource.views)), None)
        if listing is None:
            continue
        try:
            ids, _, _ = _page(api, listing, min(limit, listing.max_limit), None, api.context)
        except _Stop:
            continue
        for _ in range(reads):
            for ident in ids[:limit]:
                read(api, resource, ident)
            time.sleep(interval)
