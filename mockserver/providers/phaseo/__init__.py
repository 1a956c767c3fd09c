"""Phaseo AI Stats gateway: OpenAI batches with an extended object, a status filter, and a 501 mode."""

from __future__ import annotations

from starlette.datastructures import Headers

from ...core.errors import NotImplementedYet
from ...core.settings import Settings
from ..base import Call, Provider, View, bearer_token, check_key
from ..openai_family import recorded, view
from ..openai_family.dialect import BATCH_FIELDS, Dialect, request_id_header
from .errors import render_error
from .handlers import HANDLERS, LIFECYCLE_STATUS, batch_additions, create_extras, normalise_endpoint, status_filter
from .stream import batch_stream
from .webhooks import PhaseoWebhooks


def authenticate(headers: Headers, settings: Settings) -> str:
    return check_key("phaseo", bearer_token(headers), settings, "Missing API key: send 'Authorization: Bearer aistats_v1_sk_...'.", "Invalid API key.")


def guard(call: Call) -> None:
    if call.engine.settings.phaseo_mode == "not_implemented":
        raise NotImplementedYet("Not implemented yet")


DIALECT = Dialect(
    name="phaseo",
    batch_fields=frozenset(BATCH_FIELDS),
    create_extras=create_extras,
    batch_additions=batch_additions,
    status_filter=status_filter,
    normalise_endpoint=normalise_endpoint,
)


PROVIDER = Provider(
    name="phaseo",
    prefix="/phaseo/v1",
    spec_name="phaseo",
    handlers=HANDLERS,
    make_backend=DIALECT.make_backend,
    authenticate=authenticate,
    render_error=render_error,
    guard=guard,
    decorate=request_id_header,
    view=View(view.rows, view.detail),
    summary="Phaseo AI Stats gateway batches and files (extended batch object)",
    webhooks=PhaseoWebhooks(LIFECYCLE_STATUS),
    streams={"/async/batch/{batch_id}/ws": batch_stream(LIFECYCLE_STATUS)},
    dialect=DIALECT,
    recorder=recorded.recorder,
)
