"""The dashboard at /_mock/ui: a static page shipped in the package, and the JSON it polls.

The page (``dashboard_static/``: plain HTML, CSS and JavaScript, no build step, nothing fetched from
elsewhere) reads ``GET /_mock/ui/state`` once a second and ``GET /_mock/ui/batch`` for the batch it
shows, and drives the clock, scenarios, faults and journal through the admin API's own endpoints. It
sends ``Authorization: Bearer <token>`` when the user gave it an admin token. These routes live among
the admin routes, so whatever guards the admin API guards them too.
"""

from __future__ import annotations

import functools
from importlib import resources

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .admin.common import engine_of, providers_of
from .dashboard_state import NotFoundInView, ReadModel, to_json

STATIC = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}

# the page runs only its own script and style and talks only to the server that sent it
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the page may be opened as ?token=...
    "Cache-Control": "no-store",
}


def _asset(name: str) -> bytes:
    return resources.files("mockserver").joinpath("server", "dashboard_static", name).read_bytes()


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": {"message": message, "type": "invalid_request"}}, status_code=status, headers={"Cache-Control": "no-store"})


def _json(data: object) -> Response:
    return Response(to_json(data), media_type="application/json", headers={"Cache-Control": "no-store"})


@functools.cache
def _page_html() -> bytes:
    return _asset("index.html")


@functools.cache
def _assets() -> dict[str, bytes]:
    return {name: _asset(name) for name in STATIC}


def _model(request: Request) -> ReadModel:
    return ReadModel(engine_of(request), providers_of(request))


async def page(request: Request) -> Response:
    return Response(_page_html(), media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


async def page_slash(request: Request) -> Response:
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"{request.scope.get('root_path', '')}/ui{query}", status_code=308)


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    assets = _assets()
    if name not in assets:
        return _error(404, f"no dashboard file {name!r}")
    return Response(assets[name], media_type=STATIC[name], headers=PAGE_HEADERS)


async def state(request: Request) -> Response:
    return _json(_model(request).state())


async def batch(request: Request) -> Response:
    query = request.query_params
    providers = providers_of(request)
    missing = [k for k in ("provider", "ns", "id") if not query.get(k)]
    if missing:
        return _error(400, f"missing query parameter {missing[0]!r} (expected ?provider=&ns=&id=, as /_mock/ui/state lists them)")
    if query["provider"] not in providers:
        return _error(400, f"unknown provider {query['provider']!r} (providers: {', '.join(providers)})")
    try:
        return _json(_model(request).detail(query["provider"], query["ns"], query["id"]))
    except NotFoundInView as exc:
        return _error(404, str(exc))


# the dashboard's routes, relative to the admin mount (/_mock)
ROUTES = [
    Route("/ui", page, methods=["GET"]),
    Route("/ui/", page_slash, methods=["GET"]),
    Route("/ui/static/{name}", asset, methods=["GET"]),
    Route("/ui/state", state, methods=["GET"]),
    Route("/ui/batch", batch, methods=["GET"]),
]
