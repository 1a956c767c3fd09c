"""The server's logs: one format for every logger (ours and uvicorn's), text or one JSON object per line, and the
access log (off unless asked for) with the provider and operation each request reached."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LEVELS = ("critical", "error", "warning", "info", "debug")
FORMATS = ("text", "json")
# the loggers the fake writes to: its own, uvicorn's (server start/stop, errors), the multipart parser
PROJECT_LOGGERS = ("mockserver", "uvicorn", "uvicorn.error", "python_multipart", "multipart")
ACCESS_LOGGER = "mockserver.access"
# the key of the ASGI scope where a provider's pipeline says which provider and operation answered
ACCESS_SCOPE_KEY = "mockserver.access"
_ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "provider", "operation", "client")
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO-8601), level, logger, message, and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str = "info", fmt: str = "text", stream: Any = None) -> None:
    """Send every project logger (and uvicorn's) to one handler in one format, at ``level``."""
    if level not in LEVELS:
        raise ValueError(f"log level: expected one of {', '.join(LEVELS)}, got {level!r}")
    if fmt not in FORMATS:
        raise ValueError(f"log format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)  # third-party libraries: warnings and worse
    numeric = getattr(logging, level.upper())
    for name in PROJECT_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(numeric)
        for old in list(logger.handlers):  # uvicorn's own handlers would print in its own format
            logger.removeHandler(old)
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # the access log is ours (AccessLog), with the operation


class AccessLog:
    """ASGI middleware: one INFO record on ``mockserver.access`` per HTTP request, once its response is sent."""

    def __init__(self, app: ASGIApp, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.log = logger or logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        info: dict[str, Any] = {}
        status = {"code": 0}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        try:
            await self.app({**scope, ACCESS_SCOPE_KEY: info}, receive, sending)
        finally:
            client = scope.get("client")
            fields = {
                "method": scope.get("method", ""),
                "path": scope.get("path", ""),
                "status": status["code"],
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "provider": info.get("provider"),
                "operation": info.get("operation"),
                "client": f"{client[0]}:{client[1]}" if client else None,
            }
            where = " ".join(str(fields[k]) for k in ("provider", "operation") if fields[k])
            self.log.info(
                '%s %s %s %.2fms%s', fields["method"], fields["path"], fields["status"], fields["duration_ms"],
                f" ({where})" if where else "", extra=fields,
            )


__all__ = ["AccessLog", "JsonFormatter", "configure_logging", "LEVELS", "FORMATS", "ACCESS_SCOPE_KEY"]
