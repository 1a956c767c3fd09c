"""OpenAI's own Batch API at ``/openai/v1``: the reference the family follows, so its dialect changes nothing."""

from __future__ import annotations

from starlette.datastructures import Headers

from ...core.settings import Settings
from ..base import Provider, View, bearer_token, check_key
from ..openai_family import recorded, view
from ..openai_family.dialect import BATCH_FIELDS, Dialect, request_id_header
from ..openai_family.webhooks import StandardWebhooks
from .errors import render_error
from .handlers import HANDLERS


def authenticate(headers: Headers, settings: Settings) -> str:
    return check_key(
        "openai", bearer_token(headers), settings,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth "
        "(i.e. Authorization: Bearer YOUR_KEY).",
        "Incorrect API key provided.",
    )


DIALECT = Dialect(name="openai", batch_fields=frozenset(BATCH_FIELDS))


PROVIDER = Provider(
    name="openai",
    prefix="/openai/v1",
    spec_name="openai",
    handlers=HANDLERS,
    make_backend=DIALECT.make_backend,
    authenticate=authenticate,
    render_error=render_error,
    decorate=request_id_header,
    view=View(view.rows, view.detail),
    summary="OpenAI Batch API: files and batches (the reference of the OpenAI family)",
    webhooks=StandardWebhooks("openai"),
    dialect=DIALECT,
    recorder=recorded.recorder,
)
