"""Retell AI as the server mounts it: base URL ``/retell`` (no ``/v1``, as ``https://api.retellai.com``)."""

from __future__ import annotations

from starlette.datastructures import Headers

from ...core.settings import Settings
from ..base import Provider, View, bearer_token, check_key
from . import recorded, view
from .errors import render_error
from .handlers import HANDLERS
from .models import RetellBackend

UNAUTHORIZED = "API key is missing or invalid."  # OAS-RTL components.responses.Unauthorized


def authenticate(headers: Headers, settings: Settings) -> str:
    return check_key("retell", bearer_token(headers), settings, UNAUTHORIZED, UNAUTHORIZED)


PROVIDER = Provider(
    name="retell",
    prefix="/retell",
    spec_name="retell",
    handlers=HANDLERS,
    make_backend=RetellBackend,
    authenticate=authenticate,
    render_error=render_error,
    view=View(view.rows, view.detail),
    recorder=recorded.recorder,
    summary="Retell AI batch tests: test-case definitions, batch test jobs and their test runs",
)
