"""/_mock/webhooks: account endpoints, deliveries with every attempt, redelivery, pause, and faults that send
duplicates or out-of-order events on purpose."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ...config.documents import Document, DocumentError
from ...config.webhooks import parse_endpoints, register
from ...core.outbox import LOOPBACK, Endpoint
from ..webhooks import describe
from .common import engine_of, error, mask, providers_of

DELIVERY_FILTERS = ("provider", "subject", "event_type", "state")


def endpoint_json(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id, "provider": endpoint.provider, "key": mask(endpoint.namespace), "url": endpoint.url,
        "secret": endpoint.secret, "events": list(endpoint.events) if endpoint.events is not None else None, "since": endpoint.since,
    }


async def overview(request: Request) -> Response:
    outbox = engine_of(request).outbox
    announcers = {
        name: {
            "to": "account endpoints" if p.webhooks.account_endpoints else "the URL each object is created with",
            "event_types": list(getattr(p.webhooks, "event_types", ())),
            "retry_delays": list(p.webhooks.policy.delays),
            "max_attempts": p.webhooks.policy.max_attempts,
            "timeout": p.webhooks.policy.timeout,
            "schedule_source": p.webhooks.policy.source,
            "addition": p.webhooks.addition,
        }
        for name, p in providers_of(request).items()
        if p.webhooks is not None
    }
    return JSONResponse({
        "paused": outbox.paused,
        "allowed_hosts": list(outbox.allowed_hosts),
        "faults": {"duplicates": outbox.faults.duplicates, "reorder": outbox.faults.reorder},
        "endpoints": len(outbox.endpoints),
        "deliveries": len(outbox.deliveries),
        "providers": announcers,
    })


async def endpoint_list(request: Request) -> Response:
    outbox = engine_of(request).outbox
    provider, key = request.query_params.get("provider"), request.query_params.get("key")
    rows = [endpoint_json(e) for e in outbox.endpoints.values() if provider in (None, e.provider) and key in (None, e.namespace)]
    return JSONResponse({"object": "list", "data": rows})


async def endpoint_add(request: Request) -> Response:
    try:
        data = json.loads(await request.body() or b"null")
        specs = parse_endpoints(Document([data], "admin API"), (), [data])
        endpoint = register(engine_of(request), providers_of(request), specs[0])
    except (ValueError, DocumentError) as exc:
        return error(400, f"{exc} (expected a JSON body {{provider, key, url, secret?, events?}})")
    return JSONResponse(endpoint_json(endpoint), status_code=201)


async def endpoint_delete(request: Request) -> Response:
    if not engine_of(request).outbox.remove_endpoint(request.path_params["endpoint_id"]):
        return error(404, f"no webhook endpoint {request.path_params['endpoint_id']!r}")
    return JSONResponse({"deleted": True})


async def delivery_list(request: Request) -> Response:
    unknown = sorted(set(request.query_params) - set(DELIVERY_FILTERS))
    if unknown:
        return error(400, f"unknown filter {unknown[0]!r} (filters: {', '.join(DELIVERY_FILTERS)})")
    q = request.query_params
    rows = [
        describe(d, mask) for d in engine_of(request).outbox.list(q.get("provider"), None, q.get("subject"))
        if q.get("event_type") in (None, d.event.type) and q.get("state") in (None, d.state)
    ]
    return JSONResponse({"object": "list", "data": rows})


async def redeliver(request: Request) -> Response:
    engine = engine_of(request)
    delivery = engine.outbox.redeliver(request.path_params["delivery_id"], engine.now())
    if delivery is None:
        return error(404, f"no webhook delivery {request.path_params['delivery_id']!r}")
    return JSONResponse(describe(delivery, mask), status_code=202)


async def pause(request: Request) -> Response:
    engine_of(request).outbox.paused = True
    return JSONResponse({"paused": True})


async def resume(request: Request) -> Response:
    engine_of(request).outbox.paused = False
    return JSONResponse({"paused": False})


async def faults_set(request: Request) -> Response:
    outbox = engine_of(request).outbox
    try:
        data = json.loads(await request.body() or b"{}")
        if not isinstance(data, dict) or set(data) - {"duplicates", "reorder"}:
            raise ValueError
        duplicates = data.get("duplicates", outbox.faults.duplicates)
        reorder = data.get("reorder", outbox.faults.reorder)
        if isinstance(duplicates, bool) or not isinstance(duplicates, int) or duplicates < 0 or not isinstance(reorder, bool):
            raise ValueError
    except ValueError:
        return error(400, 'expected a JSON body {"duplicates": <deliveries to send twice, >= 0>, "reorder": <true|false>}')
    outbox.faults.duplicates, outbox.faults.reorder = duplicates, reorder
    return JSONResponse({"duplicates": duplicates, "reorder": reorder})


async def hosts(request: Request) -> Response:
    outbox = engine_of(request).outbox
    try:
        data = json.loads(await request.body() or b"{}")
        hosts = data["hosts"] if isinstance(data, dict) else None
        if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
            raise ValueError
    except (ValueError, KeyError):
        return error(400, 'expected a JSON body {"hosts": ["host.docker.internal", ...]} ("*" allows every host)')
    outbox.allowed_hosts = tuple(dict.fromkeys([*LOOPBACK, *(h.lower() for h in hosts)]))
    return JSONResponse({"allowed_hosts": list(outbox.allowed_hosts)})


async def faults_clear(request: Request) -> Response:
    outbox = engine_of(request).outbox
    outbox.faults.duplicates, outbox.faults.reorder = 0, False
    return JSONResponse({"duplicates": 0, "reorder": False})


ROUTES = [
    Route("/webhooks", overview, methods=["GET"]),
    Route("/webhooks/endpoints", endpoint_list, methods=["GET"]),
    Route("/webhooks/endpoints", endpoint_add, methods=["POST"]),
    Route("/webhooks/endpoints/{endpoint_id}", endpoint_delete, methods=["DELETE"]),
    Route("/webhooks/deliveries", delivery_list, methods=["GET"]),
    Route("/webhooks/deliveries/{delivery_id}/redeliver", redeliver, methods=["POST"]),
    Route("/webhooks/pause", pause, methods=["POST"]),
    Route("/webhooks/resume", resume, methods=["POST"]),
    Route("/webhooks/faults", faults_set, methods=["POST"]),
    Route("/webhooks/faults", faults_clear, methods=["DELETE"]),
    Route("/webhooks/hosts", hosts, methods=["POST"]),
]
