"""The WebSocket streams providers document (``Provider.streams``), mounted under each provider's prefix and
woken by the server's one dispatcher (clock changes, answered write requests)."""

from __future__ import annotations

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from ..core.engine import Engine
from ..providers.base import Provider, StreamContext, StreamHandler
from .webhooks import Dispatcher


def stream_routes(engine: Engine, providers: dict[str, Provider], dispatcher: Dispatcher) -> list[WebSocketRoute]:
    routes = []
    for provider in providers.values():
        for path, handler in provider.streams.items():
            routes.append(WebSocketRoute(provider.prefix + path, _endpoint(engine, provider, dispatcher, handler)))
    return routes


def _endpoint(engine: Engine, provider: Provider, dispatcher: Dispatcher, handler: StreamHandler):  # type: ignore[no-untyped-def]
    async def endpoint(websocket: WebSocket) -> None:
        subscription = dispatcher.subscribe()
        try:
            await handler(websocket, StreamContext(provider, engine, dict(websocket.path_params), subscription.wait))
        finally:
            subscription.close()

    return endpoint


__all__ = ["stream_routes"]
