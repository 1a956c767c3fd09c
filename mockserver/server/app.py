"""create_app: the fake as one ASGI app, every provider under its own prefix plus the /_mock admin API."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from ..config.settings import validate_settings
from ..core.engine import Engine
from ..core.settings import Settings
from ..providers.base import Provider
from ..providers.registry import PROVIDERS
from ..spec.loader import load_spec
from .admin import AdminGuard, admin_routes
from .pipeline import ProviderApp
from .replay import Replay, Replayer
from .streams import stream_routes
from .transactions import Atomic
from .webhooks import Dispatcher, WebhookDispatch

log = logging.getLogger("mockserver")


def create_app(settings: Settings | None = None, engine: Engine | None = None, providers: dict[str, Provider] | None = None,
               replay: str | None = None, replay_strict: bool = False) -> Starlette:
    """Build the server. Fails at once if a spec cannot be loaded or an operation has no handler.

    ``replay``: a cassette (``mockserver record``) whose exchanges are answered before the simulation
    (server/replay.py); with ``replay_strict`` what it lacks is a 404 instead of simulated."""
    settings = settings or (engine.settings if engine else Settings())
    validate_settings(settings)
    providers = providers or PROVIDERS
    if engine is None:
        from ..core.state import open_state  # --state: SQLite file or PostgreSQL (core/state/)

        state = open_state(settings.state) if settings.state else None
        engine = Engine(settings, {name: p.make_backend for name, p in providers.items()}, state=state)
    mounts = []
    for provider in providers.values():
        spec = load_spec(provider.spec_name)
        mounts.append((provider.prefix, ProviderApp(provider, spec, engine)))
        log.info("%s: %d operations at %s (%d unsupported)", provider.name, len(spec.operations), provider.prefix, len(provider.unsupported))

    async def index(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        return JSONResponse({
            "server": "mockserver",
            "providers": {name: base + p.prefix for name, p in providers.items()},
            "admin": base + "/_mock",
        })

    dispatcher = Dispatcher(engine, providers)  # one webhook dispatcher per server (server/webhooks.py)
    routes = [Route("/", index, methods=["GET"]), Mount("/_mock", app=AdminGuard(Atomic(Router(admin_routes()), engine.store), engine))]
    routes += stream_routes(engine, providers, dispatcher)
    app = Starlette(routes=routes)
    app.state.engine = engine
    app.state.providers = providers
    app.state.webhooks = dispatcher
    app.add_middleware(ProviderPrefixes, apps=mounts)
    app.state.replay = None
    if replay is not None:
        replayer = Replayer(replay, providers, engine, strict=replay_strict)  # the cassette is read now: a bad one fails start-up
        app.state.replay = replayer.state
        app.add_middleware(Replay, replayer=replayer)
    app.add_middleware(WebhookDispatch, dispatcher=dispatcher)
    return app


class ProviderPrefixes:
    """Sends every path under a provider's prefix to that provider, whatever characters follow.

    (starlette's ``Mount`` matches with ``.*``, which stops at a newline: ``/anyapi/v1/files/%0A`` would
    escape the provider and get a plain-text 404 instead of the provider's own JSON error.)
    """

    def __init__(self, app: ASGIApp, apps: list[tuple[str, ProviderApp]]) -> None:
        self.app = app
        self.apps = sorted(apps, key=lambda item: -len(item[0]))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            root = scope.get("root_path", "")
            path = scope["path"][len(root) :] if root and scope["path"].startswith(root) else scope["path"]
            for prefix, provider_app in self.apps:
                if path == prefix or path.startswith(prefix + "/"):
                    await provider_app({**scope, "root_path": root + prefix}, receive, send)
                    return
        await self.app(scope, receive, send)
