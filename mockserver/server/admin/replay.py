"""/_mock/replay: the cassette a ``serve --replay`` server answers from, and which answers came from it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .common import error


async def replay(request: Request) -> Response:
    """What the cassette holds and what it answered, oldest first (``data``: seq, method, path, status, at);
    404 when the server replays no cassette."""
    state = getattr(request.app.state, "replay", None)
    if state is None:
        return error(404, "this server replays no cassette (start it with mockserver serve --replay CASSETTE)")
    return JSONResponse(state.as_dict())
