"""The admin API under /_mock: clock, reset, and what a user inspecting the fake needs.

One module per resource, each with module-level handlers that reach the engine and the providers through the
request's app (``common.engine_of``, ``common.providers_of``): ``clock``, ``snapshots`` (reset, snapshot,
restore), ``journal`` (requests, violations), ``scenarios``, ``faults``, ``providers`` (health, providers,
specs, every batch), ``webhooks``, ``replay`` (what a ``--replay`` cassette answered); ``guard`` is who may use it. ``ROUTES`` is the table.
"""

from __future__ import annotations

from starlette.routing import Route

from . import clock, faults, journal, providers, replay, scenarios, snapshots, webhooks
from .common import mask
from .guard import OPEN_PATHS, AdminGuard

ROUTES = [
    Route("/health", providers.health, methods=["GET"]),
    Route("/specs/{provider}", providers.spec, methods=["GET"]),
    Route("/clock", clock.clock, methods=["GET"]),
    Route("/clock/advance", clock.advance, methods=["POST"]),
    Route("/clock/speed", clock.speed, methods=["POST"]),
    Route("/reset", snapshots.reset, methods=["POST"]),
    Route("/batches", providers.batches, methods=["GET"]),
    Route("/violations", journal.violations, methods=["GET"]),
    Route("/requests", journal.requests, methods=["GET"]),
    Route("/requests", journal.clear_requests, methods=["DELETE"]),
    Route("/scenarios", scenarios.scenario_list, methods=["GET"]),
    Route("/scenarios", scenarios.scenario_set, methods=["POST"]),
    Route("/scenarios", scenarios.scenario_clear, methods=["DELETE"]),
    Route("/scenarios/{name}", scenarios.scenario_delete, methods=["DELETE"]),
    Route("/faults", faults.fault_list, methods=["GET"]),
    Route("/faults", faults.fault_add, methods=["POST"]),
    Route("/faults", faults.fault_clear, methods=["DELETE"]),
    Route("/faults/{fault_id}", faults.fault_delete, methods=["DELETE"]),
    Route("/snapshot", snapshots.snapshot, methods=["POST"]),
    Route("/snapshots", snapshots.snapshot_list, methods=["GET"]),
    Route("/restore", snapshots.restore, methods=["POST"]),
    Route("/providers", providers.provider_list, methods=["GET"]),
    Route("/replay", replay.replay, methods=["GET"]),
]


def admin_routes() -> list[Route]:
    """Every route under the /_mock mount: ``ROUTES``, the dashboard's (/_mock/ui) and the webhooks'."""
    from .. import dashboard  # here, not at the top: the dashboard's read model imports this package's mask()

    return [*ROUTES, *dashboard.ROUTES, *webhooks.ROUTES]


__all__ = ["OPEN_PATHS", "ROUTES", "AdminGuard", "admin_routes", "mask"]
