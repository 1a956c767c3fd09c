"""TEMPLATE for a provider with a backend of its own: copy this folder to ``providers/<name>/`` and follow
``CHECKLIST.md`` beside it. It is a complete, working provider (``/template``, jobs that run, end and can be
cancelled), served by nobody: the registry does not list it and nothing imports it but its own test
(``tests/providers/test_template.py``), which starts it from ``template.yaml`` to keep it honest."""

from __future__ import annotations

from starlette.datastructures import Headers

from ...core.settings import Settings
from ..base import Provider, View, bearer_token, check_key
from . import view
from .errors import render_error
from .handlers import HANDLERS
from .models import TemplateBackend

NAME = "template"  # CHECKLIST 1: the provider's name (registry key, spec file, settings.keys_for, fixtures)


def authenticate(headers: Headers, settings: Settings) -> str:
    """CHECKLIST 5: the provider's documented auth header; the key is the namespace."""
    return check_key(NAME, bearer_token(headers), settings, "Missing API key.", "Invalid API key.")


PROVIDER = Provider(
    name=NAME,
    prefix="/template",  # where the SDK's base_url points, e.g. "/anthropic" (paths keep their /v1/)
    spec_name=NAME,
    handlers=HANDLERS,
    make_backend=TemplateBackend,
    authenticate=authenticate,
    render_error=render_error,
    view=View(view.rows, view.detail),
    summary="Template jobs (not mounted)",
    # webhooks=..., decorate=..., retry_headers=..., body_limit=..., upload_limit=...: only where documented
)
