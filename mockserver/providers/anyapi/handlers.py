"""AnyAPI's handler table: every operation it documents uses openai_family's shared handler."""

from __future__ import annotations

from ..base import Handler
from ..openai_family.handlers import handlers_for

HANDLERS: dict[str, Handler] = handlers_for(
    "createFile", "retrieveFile", "downloadFile", "createBatch", "listBatches", "retrieveBatch", "cancelBatch"
)
