"""pytest plugin (entry point ``pytest11: mockserver``): the fake as fixtures, and a marker for per-test settings.

``mock_server``: one live server per session on a free loopback port, reset before each test.
``mock_app``: the same fake in-process, an ASGI app for ``httpx.ASGITransport`` (no socket).
``webhook_receiver``: a loopback HTTP server recording the webhooks the fake sends (``mockserver.testing.receiver``).
``@pytest.mark.mockserver(scenario=, seed=, clock_speed=, faults=[...], fixtures=[...], scenarios={...}, webhooks=[...])``:
one test's settings, undone after it. The logic lives in ``mockserver.testing.harness`` and ``mockserver.config.baseline``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from ..core.settings import ConfigError

MARKER_HELP = (
    "mockserver(scenario=None, seed=None, clock_speed=None, faults=[], fixtures=[], scenarios={}, webhooks=[]): settings of the "
    "mock_server / mock_app fake for this test, undone after it: the default batch scenario, the seed of ids and "
    "simulated outcomes, simulated seconds per real second (0 freezes the clock), faults and scenarios written as in "
    "a scenario file, fixture files (or inline fixture entries) preloaded for this test, account webhook endpoints "
    "({provider, key, url, secret?, events?})."
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockserver", "mockserver: the stateful batch-API fake behind mock_server / mock_app")
    group.addoption("--mockserver-config", metavar="FILE", help="settings YAML of the fake (as 'mockserver serve --config')")
    group.addoption("--mockserver-seed", type=int, metavar="N", help="seed for ids and simulated outcomes (default: the config's, 0)")
    group.addoption(
        "--mockserver-clock-speed", type=float, metavar="X",
        help="simulated seconds per real second (default 0: the clock moves only by clock.advance; with a config: its value)",
    )
    group.addoption("--mockserver-scenario", metavar="NAME", help="the scenario of every batch whose request names none")
    group.addoption("--mockserver-scenarios", action="append", default=[], metavar="FILE", help="a scenario file: scenarios, default, faults (repeatable)")
    group.addoption("--mockserver-fixtures", action="append", default=[], metavar="FILE", help="a fixture file preloaded before every test (repeatable)")
    group.addoption("--mockserver-admin-token", metavar="TOKEN", help="protect the fake's /_mock admin API (default: $MOCKSERVER_ADMIN_TOKEN); the fixtures' admin_headers carry it")


_SETTINGS = pytest.StashKey[Any]()
_BASELINE = pytest.StashKey[Any]()


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; read the option files now, so a mistake in one stops the run before any test."""
    config.addinivalue_line("markers", MARKER_HELP)
    options = ("mockserver_config", "mockserver_seed", "mockserver_clock_speed", "mockserver_scenario", "mockserver_scenarios", "mockserver_fixtures",
               "mockserver_admin_token")
    if any(config.getoption(name, None) for name in options) or os.environ.get("MOCKSERVER_ADMIN_TOKEN"):
        _read_options(config)


def _read_options(config: pytest.Config) -> None:
    """The session's Settings and Baseline, from the command line (imported only when a fake is wanted)."""
    from ..config.baseline import Baseline
    from ..config.settings import load_settings
    from ..core.settings import Settings

    path = config.getoption("mockserver_config", None)
    try:
        settings = load_settings(path) if path else Settings(response_validation="strict", clock_speed=0.0)
        baseline = Baseline.load(
            config.getoption("mockserver_scenarios", None) or [],
            config.getoption("mockserver_fixtures", None) or [],
            config.getoption("mockserver_scenario", None),
        )
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    seed, speed = config.getoption("mockserver_seed", None), config.getoption("mockserver_clock_speed", None)
    config.stash[_SETTINGS] = settings.replace(**({"seed": seed} if seed is not None else {}), **({"clock_speed": speed} if speed is not None else {}))
    token = config.getoption("mockserver_admin_token", None) or os.environ.get("MOCKSERVER_ADMIN_TOKEN")
    if token:
        config.stash[_SETTINGS] = config.stash[_SETTINGS].replace(admin_token=token)
    config.stash[_BASELINE] = baseline


@pytest.fixture(scope="session")
def mockserver_settings(pytestconfig: pytest.Config) -> Any:
    """The session's Settings: --mockserver-config (default: strict response validation, frozen clock), then the flags."""
    if _SETTINGS not in pytestconfig.stash:
        _read_options(pytestconfig)
    return pytestconfig.stash[_SETTINGS]


@pytest.fixture(scope="session")
def mockserver_baseline(pytestconfig: pytest.Config) -> Any:
    """What every test starts from: the scenario and fixture files and the default scenario of the command line."""
    if _BASELINE not in pytestconfig.stash:
        _read_options(pytestconfig)
    return pytestconfig.stash[_BASELINE]


@pytest.fixture(scope="session")
def mockserver_live(mockserver_settings: Any, mockserver_baseline: Any) -> Iterator[Any]:
    """The session's live server (a Harness); tests take ``mock_server``, which resets it first."""
    from ..server.live import LiveServer
    from .harness import Harness

    server = LiveServer(mockserver_settings)
    _install(mockserver_baseline, server.engine, server.app.state.providers)
    with server:
        yield Harness(server.engine, server.app.state.providers, server.url, server.app)


@pytest.fixture(scope="session")
def mockserver_inprocess(mockserver_settings: Any, mockserver_baseline: Any) -> Any:
    """The session's in-process fake (a Harness); tests take ``mock_app``, which resets it first."""
    from ..server.app import create_app
    from .harness import Harness

    app = create_app(mockserver_settings)
    _install(mockserver_baseline, app.state.engine, app.state.providers)
    return Harness(app.state.engine, app.state.providers, app=app)


@pytest.fixture
def mock_server(mockserver_live: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A running fake: ``base_url(provider)``, ``clock.advance(s)`` / ``clock.now()``, ``reset()``, ``requests()``."""
    yield from _for_test(mockserver_live, request)


@pytest.fixture
def webhook_receiver() -> Iterator[Any]:
    """A loopback HTTP server recording the webhooks it gets (``url``, ``requests``, ``wait_for(n)``,
    ``fail(n, status=500)`` to answer errors and exercise retries)."""
    from .receiver import WebhookReceiver

    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def mock_app(mockserver_inprocess: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The fake as an ASGI app (``httpx.ASGITransport(app=mock_app)``); its engine is ``mock_app.state.engine``."""
    for harness in _for_test(mockserver_inprocess, request):
        yield harness.app


def _for_test(harness: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Reset the shared fake, apply the test's marker, yield, undo (a marker mistake fails the test's setup)."""
    context = harness.for_test(_marker_settings(request))
    problem: str | None
    try:
        entered = context.__enter__()
    except ConfigError as exc:
        problem = str(exc)
    else:
        problem = None
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    try:
        yield entered
    finally:
        context.__exit__(None, None, None)


def _install(baseline: Any, engine: Any, providers: Any) -> None:
    try:
        baseline.install(engine, providers)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


def _marker_settings(request: pytest.FixtureRequest) -> Any:
    """The test's marker settings; markers closer to the test win, key by key."""
    from .harness import marker_settings

    kwargs: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("mockserver"))):
        if marker.args:
            pytest.fail(f"@pytest.mark.mockserver takes keyword arguments only, got {marker.args!r}", pytrace=False)
        kwargs.update(marker.kwargs)
    try:
        return marker_settings(kwargs, f"@pytest.mark.mockserver on {request.node.nodeid}", request.path.parent)
    except ConfigError as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)
