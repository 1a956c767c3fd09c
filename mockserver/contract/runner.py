"""``run_contract``: the whole suite against one provider's API, a fake the kit starts or any base URL.

Steps, each bounded by the one request budget: create -> poll -> cancel flows (fake, or ``allow_writes``),
pagination walks, read-only observation of existing resources (real targets without writes), then
schemathesis' phases. Whatever was created is cleaned up at the end, even after a failure.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import requests

from ..spec.loader import specs_dir
from . import fuzz
from .api import Api, FlowError, NotAllowed, operation_ids
from .invariants import Ledger
from .meter import BudgetExhausted, Meter, Sanitizer
from .profiles import Profile, get_profile
from .report import Report
from .semantics import Observer, check_pagination, observe_existing, run_flows

# a fake served for a URL-mode run (mutants, drift) runs its clock this much faster than real time
FAKE_CLOCK_SPEED = 20.0
# the fake the kit starts itself has a frozen clock that each poll moves on by this many simulated seconds:
# lifecycles end within a few polls, and a run does not depend on how fast the machine is (deterministic)
FAKE_TICK = 0.5


class ContractSetupError(Exception):
    """The run cannot start (no key, provider not served, ...); the message says what to do."""


class ContractInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: raised after the clean-up, with the report of what ran (``report.interrupted``)."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"contract run for {report.provider} interrupted")
        self.report = report


@dataclass(frozen=True)
class Options:
    max_examples: int = 10
    seed: int = 0
    phases: tuple[str, ...] = fuzz.PHASES
    stateful_steps: int = 8
    flows: int = 3
    poll_timeout: float | None = None  # default: 10s against the fake, 60s against a URL
    poll_interval: float | None = None  # default: 0.05s against the fake (whose clock moves per poll), 2s against a URL
    page_size: int = 1
    max_pages: int = 10
    max_wait: float = 60.0  # longest Retry-After honoured
    request_timeout: float = 10.0
    operations: tuple[str, ...] = ()  # restrict schemathesis to these operationIds
    shrink: bool = True  # minimise failing cases (clearer examples, more requests)
    baseline: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    explore: bool = False  # with writes against a URL: schemathesis' fuzzing and stateful phases send writes too
    sdk: bool = True  # hold every answer to the official SDK's models, where installed
    # replay saved findings (reproduce.load_findings) instead of the suite: their steps only, judged by every check
    replay: tuple[dict[str, Any], ...] = ()
    # with ``replay``: the answers a generated script got, (status, headers, content) in order; the kit takes these
    # instead of sending the finding's steps again, and sends only what comes after them (a probe run again)
    answers: tuple[tuple[int, dict[str, str], bytes], ...] = ()


@dataclass(frozen=True)
class Fake:
    url: str  # the provider's base URL on the fake
    tick: Callable[[], object]  # moves the fake's clock on (one poll's worth)


@contextmanager
def fake_server(provider: str, key: str, clock_speed: float = 0.0) -> Iterator[Fake]:
    """A LiveServer that accepts only ``key`` for ``provider`` (so wrong keys are rejected), in strict mode."""
    from ..core.settings import Settings
    from ..server.live import LiveServer

    settings = Settings(api_keys={provider: (key,)}, response_validation="strict", clock_speed=clock_speed)
    # quiet before (start-up logs) and after the server is built (uvicorn sets its loggers up when it is)
    with quiet_fake(), LiveServer(settings) as server, quiet_fake():
        if provider not in server.app.state.providers:
            raise ContractSetupError(f"the fake does not serve {provider!r} (it serves: {', '.join(server.app.state.providers)})")
        yield Fake(server.base_url(provider), lambda: server.engine.clock.advance(FAKE_TICK) and None)


@contextmanager
def quiet_fake() -> Iterator[None]:
    """The fake's own logs (tracebacks of requests it could not handle) would drown the summary; the findings say it."""
    loggers = [logging.getLogger(name) for name in ("mockserver", "uvicorn.error", "uvicorn.access", "python_multipart")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def run_contract(
    provider: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    allow_writes: bool = False,
    budget: int | None = None,
    options: Options | None = None,
    environ: dict[str, str] | None = None,
    spec_path: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Run the suite. Without ``base_url`` against a fake started here (writes allowed); otherwise against the URL
    (the base URL the provider's SDK takes), read-only unless ``allow_writes``. The key comes from ``api_key`` or
    the provider's environment variable. ``progress`` gets a line per finished operation and phase. Ctrl-C
    stops the run, cleans up and raises ContractInterrupted with the report of what ran."""
    profile = get_profile(provider)
    options = options or Options()
    env = dict(os.environ if environ is None else environ)
    spec = spec_path or specs_dir() / f"{profile.spec}.yaml"
    if base_url is None:
        fake_key = "sk-contract-" + secrets.token_hex(12)
        with fake_server(provider, fake_key) as fake:
            options = replace(options, poll_timeout=options.poll_timeout or 10.0, poll_interval=options.poll_interval or 0.05)
            return _run(profile, spec, fake.url, fake_key, "fake", True, budget, options, env, fake=True, tick=fake.tick, progress=progress)
    key = api_key or profile.key_from_env(env)
    if not key:
        raise ContractSetupError(f"no API key for {provider}: pass --api-key or set {' or '.join(profile.key_env)}")
    options = replace(options, poll_timeout=options.poll_timeout or 60.0, poll_interval=options.poll_interval or 2.0)
    return _run(profile, spec, base_url, key, "writes" if allow_writes else "read-only", allow_writes, budget, options, env, fake=False,
                progress=progress)


def permit(schema: Any, base_url: str, allowed: set[str]) -> Callable[[str, str], bool]:
    """Whether a request (method, URL) is for one of the ``allowed`` operationIds of ``schema``."""
    import re
    from urllib.parse import urlsplit

    prefix = urlsplit(base_url).path.rstrip("/")
    patterns = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.definition.raw.get("operationId") in allowed:
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(operation.path))
            patterns.append((operation.method.upper(), re.compile("^" + re.escape(prefix) + regex + "/?$")))

    def check(method: str, url: str) -> bool:
        path = urlsplit(url).path
        return any(m == method.upper() and p.match(path) for m, p in patterns)

    return check


def _replay(api: Api, options: Options) -> None:
    from .reproduce import replay_finding

    for number, finding in enumerate(options.replay, 1):
        api.begin(f"finding {number}")
        api.report.note(f"replayed finding {number}: {finding.get('check')} on {finding.get('operation')}: "
                        f"{finding.get('title', '')[:160]} ({len(finding.get('steps', []))} steps)")
        # answers a script recorded are taken as they are: no waiting for a status (there is nothing to poll)
        replay_finding(api, finding, timeout=0.0 if options.answers else options.poll_timeout or 10.0,
                       interval=options.poll_interval or 0.05)


def _truth(api: Api, writes: bool) -> None:
    """The round-trip probes (truth.py): unknown ids always (writes only with ``writes``); the rest need writes."""
    from . import truth

    api.begin("unknown ids")
    truth.check_unknown_ids(api, writes)
    if not writes:
        return
    api.begin("unknown references")
    truth.check_unknown_references(api)
    api.begin("filters")
    truth.check_filters(api)
    api.begin("delete")
    truth.check_deleted(api)


def _undo_generated(api: Api, resource: str, ident: str, label: str) -> None:
    """Register the undo (cancel or delete) of what a generated case created; the report lists it."""
    found = api.profile.resource(resource)
    param = found.retrieve[1] if found.retrieve else None
    what = f"{resource} {ident} (made by a generated case, {label})"
    if found.undo is None or param is None or any(w == what for w, _ in api.cleanups):
        if found.undo is None:
            api.report.created.append(what + ": the API has no way to undo it")
        return

    def undo() -> None:
        exchange = api.call(found.undo or "", path={param: ident}, cleanup=True)
        if not exchange.ok() and exchange.status not in (400, 404, 409):  # already finished or gone
            raise RuntimeError(f"{found.undo} answered {exchange.status}")

    api.on_cleanup(what, undo, cost=1)


def _run(
    profile: Profile, spec: Path, base_url: str, key: str, mode: str, writes: bool, budget: int | None,
    options: Options, env: dict[str, str], fake: bool, tick: Callable[[], object] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    started = time.monotonic()
    report = Report(profile.name, base_url, mode, sanitize=Sanitizer(profile.secrets(key, env)), budget=budget,
                    baseline=set(options.baseline), progress=progress)
    headers = profile.headers(key, env, fake=fake)
    fuzz_options = fuzz.FuzzOptions(
        max_examples=options.max_examples, seed=options.seed, phases=options.phases, stateful_steps=options.stateful_steps,
        request_timeout=options.request_timeout, full=fake, allow_writes=writes, operations=options.operations,
        shrink=options.shrink, explore=options.explore and writes and not fake,
    )
    schema = fuzz.load(spec, fuzz_options, base_url, headers, profile.refusals)
    everything = fuzz.load(spec, replace(fuzz_options, operations=()), base_url, headers, profile.refusals) if options.operations else schema
    with Meter(base_url, budget=budget, max_wait=options.max_wait) as meter:
        if options.operations:
            meter.permit = permit(everything, base_url, set(options.operations))
        observer = Observer(profile, report)
        api = Api(profile, everything, base_url, headers, report, observer, meter, profile.context(env, fake=fake),
                  timeout=options.request_timeout, tick=tick,
                  allowed=frozenset(options.operations) if options.operations else None,
                  poll_timeout=options.poll_timeout or 10.0, poll_interval=options.poll_interval or 0.05)
        observer.context = api.context
        if options.answers:
            from .reproduce import Recorded

            api.session = Recorded(options.answers)
        api.ledger = Ledger(observer, sdk=options.sdk)
        api.ledger.memory["_labels"] = {op: api.label(op) for op in api.operations}
        if writes and not fake and profile.write_warning:
            report.note(f"writes allowed: {profile.write_warning}")
        try:
            steps: list[tuple[str, Callable[[], object]]] = []
            if options.replay:
                steps.append(("replay", lambda: _replay(api, options)))
            elif writes and options.flows:
                steps.append(("flows", lambda: run_flows(api, options.flows, options.poll_timeout or 10.0, options.poll_interval or 0.05)))
            if not options.replay:
                steps.append(("truth", lambda: _truth(api, writes)))
            known = operation_ids(everything)
            for pagination in profile.pagination if not options.replay else ():
                if pagination.operation_id in known and (api.allowed is None or pagination.operation_id in api.allowed):
                    steps.append(("pagination", functools.partial(check_pagination, api, pagination, options.page_size, options.max_pages)))
            if not writes and not options.replay:
                steps.append(("observe", lambda: observe_existing(api, interval=options.poll_interval or 1.0)))
            if options.phases and not options.replay:
                # against a target (not the kit's own fake) with writes: whatever a generated case created is undone
                undo = functools.partial(_undo_generated, api) if writes and not fake else None
                steps.append(("schemathesis", lambda: fuzz.run(schema, profile, report, observer, meter, headers, api.context,
                                                                       explore=fuzz_options.explore, on_create=undo)))
            for phase, step in steps:
                api.phase = phase
                api.begin(phase)
                clock = time.monotonic()
                report.tell(f"{phase} ...")
                try:
                    step()
                except BudgetExhausted:
                    break
                except NotAllowed as exc:
                    report.note(f"{phase} skipped: {exc}")
                except KeyboardInterrupt:
                    report.interrupted = True
                    break
                except FlowError:
                    continue  # already reported; the other steps still run
                except requests.RequestException as exc:
                    report.error(f"{phase}: {type(exc).__name__}: {exc}")
                finally:
                    report.timings[phase] = report.timings.get(phase, 0.0) + time.monotonic() - clock
        finally:
            api.phase = "cleanup"
            try:
                api.run_cleanups()
            except KeyboardInterrupt:  # a second Ctrl-C: stop cleaning up, still report
                report.interrupted = True
                report.error("clean-up interrupted: resources created by the run may remain")
        report.requests_sent = meter.sent
        report.requests_by_method = dict(meter.by_method)
        report.waited_seconds = meter.waited
        report.stopped_by_budget = meter.exhausted
        if meter.not_permitted:
            by_method: dict[str, int] = {}
            for what, count in meter.not_permitted.items():
                by_method[what.split(" ", 1)[0]] = by_method.get(what.split(" ", 1)[0], 0) + count
            report.note(f"--operation: {sum(by_method.values())} request(s) for other operations were not sent ("
                        + ", ".join(f"{m} {n}" for m, n in sorted(by_method.items())) + "; schemathesis asks for them to make test data)")
    report.elapsed = time.monotonic() - started
    if report.interrupted:
        raise ContractInterrupted(report)
    return report
