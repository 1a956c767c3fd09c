"""OpenAI's own Batch API: the reference the OpenAI-compatible profiles restate (cancel through cancelling, files
with list and delete)."""

from __future__ import annotations

from ..invariants import openai_results
from . import Filter, Profile, bearer
from ._openai import (
    BATCH_PAGES_NEWEST,
    CANCEL_REFUSALS,
    FILE_PAGES_ORDERED,
    LIFECYCLE,
    OPENAI_EXTRAS,
    batch_resource,
    cancel_batch,
    create_batch,
    file_resource,
)

PROFILE = Profile(
    name="openai",
    spec="openai",
    key_env=("OPENAI_API_KEY",),
    auth=bearer,
    # OpenAI's cancel answers the batch in "cancelling"; files list newest first (or order=asc) and delete
    resources=(batch_resource(LIFECYCLE, cancel_answers=frozenset({"cancelling"})), file_resource(list_op=True, delete=True)),
    pagination=(BATCH_PAGES_NEWEST, FILE_PAGES_ORDERED),
    filters=(Filter("listFiles", "purpose", "purpose", "file"),),
    create=create_batch,
    cancel=cancel_batch,
    stateful_pins={"createFile": {"purpose": "batch"}},
    refusals=CANCEL_REFUSALS,
    invariants=(openai_results,),
    **OPENAI_EXTRAS,
    write_warning="creates a two-line chat-completions batch per flow (batch pricing applies)",
)
