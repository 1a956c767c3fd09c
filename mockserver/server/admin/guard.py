"""Who may use the admin API, and how much of a body it reads: ``AdminGuard`` wraps the whole ``/_mock`` mount."""

from __future__ import annotations

import hmac
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...core.engine import Engine
from ...core.errors import MockError
from ...core.hostile import safe_text
from ..limits import BodyBudget

# --- who may use it (issue 12) --------------------------------------------------------------------

# relative to the /_mock mount: health stays open for probes, and the dashboard's page and assets (they carry no
# data; a browser opening the page sends no header: the page asks for the token and sends it with every call)
OPEN_PATHS = frozenset({"/health", "/ui", "/ui/", "/ui/static/app.js", "/ui/static/style.css"})


class AdminGuard:
    """Wraps the whole ``/_mock`` mount: with ``settings.admin_token`` set, every request but ``/_mock/health``
    needs ``Authorization: Bearer <token>`` (401 otherwise); every admin body is read under the JSON body
    limit and the body read timeout; hostile bodies get a 4xx, never a 500."""

    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.engine.settings
        token = settings.admin_token
        if token and _relative_path(scope) not in OPEN_PATHS and not _authorised(scope, token):
            await _send_error(send, 401, "This admin API needs 'Authorization: Bearer <admin token>' (the server runs with --admin-token).",
                              {"www-authenticate": 'Bearer realm="mockserver admin"'})
            return
        budget = BodyBudget(receive, settings.limits.max_json_body_bytes, settings.timeouts.body_read)
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, budget, tracking_send)
        except MockError as error:  # body too large or too slow
            if started:
                raise
            await _send_error(send, error.status, safe_text(error.message, 500), {})
        except (RecursionError, UnicodeError) as exc:
            if started:
                raise
            await _send_error(send, 400, f"The request cannot be used: {type(exc).__name__}.", {})


def _relative_path(scope: Scope) -> str:
    path, root = scope.get("path", ""), scope.get("root_path", "")
    relative = path[len(root):] if root and path.startswith(root) else path
    return relative.rstrip("/") or "/"


def _authorised(scope: Scope, token: str) -> bool:
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            scheme, _, given = value.decode("latin-1").partition(" ")
            return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode("latin-1", "replace"), token.encode("utf-8"))
    return False


async def _send_error(send: Send, status: int, message: str, headers: dict[str, str]) -> None:
    kind = "unauthorized" if status == 401 else "invalid_request"
    body = json.dumps({"error": {"message": message, "type": kind}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
