"""/_mock/reset, /_mock/snapshot(s), /_mock/restore: the whole state, back to the start, kept and brought back."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .common import engine_of, error, json_object

SNAPSHOT_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
IMPORTED = "imported"


async def reset(request: Request) -> Response:
    engine = engine_of(request)
    engine.reset()
    return JSONResponse({"reset": True, "now": engine.now()})


async def snapshot(request: Request) -> Response:
    """{} or {"name": ..., "path": ...}: a named snapshot (kept in the durable state), optionally also
    written to a file the server can write (an error otherwise, and then nothing is kept)."""
    engine = engine_of(request)
    try:
        data = await json_object(request)
    except ValueError:
        data = None
    name, path = (data or {}).get("name"), (data or {}).get("path")
    if data is None or set(data) - {"name", "path"} or not all(v is None or isinstance(v, str) for v in (name, path)):
        return error(400, 'expected a JSON body {} or {"name": "<snapshot name>", "path": "<file to export it to>"}')
    if name is not None and not SNAPSHOT_NAME.fullmatch(name):
        return error(400, f"snapshot name {name!r}: use 1-64 letters, digits, '.', '_' or '-'")
    if path is None:
        return JSONResponse({"id": engine.snapshot(name)})
    try:
        target = open(path, "wb")  # before anything is kept: a path the server cannot write keeps nothing
    except OSError as exc:
        return error(400, f"cannot write the snapshot to {path!r}: {exc.strerror or exc}")
    with target:
        state = engine.snapshot_state()
        try:
            target.write(engine.store.export_snapshot(state))
        except OSError as exc:
            return error(500, f"cannot write the snapshot to {path!r}: {exc.strerror or exc}")
    return JSONResponse({"id": engine.keep_snapshot(state, name), "path": path})


async def snapshot_list(request: Request) -> Response:
    return JSONResponse({"object": "list", "data": engine_of(request).snapshots()})


async def restore(request: Request) -> Response:
    """{"id": ...} (a snapshot of this server's state) or {"path": ...} (a file a snapshot was exported to)."""
    engine = engine_of(request)
    try:
        data = await json_object(request)
    except ValueError:
        data = {}
    snapshot_id, path = data.get("id"), data.get("path")
    if path is not None and isinstance(path, str) and snapshot_id is None:
        try:
            state = engine.store.import_snapshot(Path(path).read_bytes())
        except OSError as exc:
            return error(400, f"cannot read a snapshot from {path!r}: {exc.strerror or exc}")
        except Exception as exc:  # not a file POST /_mock/snapshot wrote
            return error(400, f"{path!r} is not a snapshot exported by POST /_mock/snapshot: {exc}")
        snapshot_id = engine.keep_snapshot(state, IMPORTED)  # kept like any other, then restored
    if not isinstance(snapshot_id, str):
        return error(400, 'expected a JSON body {"id": "<snapshot id from POST /_mock/snapshot>"} or {"path": "<exported file>"}')
    if snapshot_id not in engine.snapshots():
        return error(404, f"no snapshot {snapshot_id!r} (snapshots: {', '.join(engine.snapshots()) or 'none'})")
    engine.restore(snapshot_id)
    return JSONResponse({"restored": snapshot_id, "now": engine.now()})
