"""OpenAI's handler table: openai_family's shared handlers for every operation (the family is OpenAI's shape;
every documented batch endpoint has a body builder in ``openai_family/bodies.py``)."""

from __future__ import annotations

from ..base import Handler
from ..openai_family.handlers import handlers_for

HANDLERS: dict[str, Handler] = handlers_for(
    "createFile", "listFiles", "retrieveFile", "downloadFile", "deleteFile",
    "createBatch", "retrieveBatch", "listBatches", "cancelBatch",
)
