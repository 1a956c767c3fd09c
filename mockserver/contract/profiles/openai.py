"""OpenAI's own Batch API: the reference the OpenAI-compatible profiles restate (cancel through cancelling, files
with list and delete)."""

from __future__ import annotations

from ..invariants import openai_results
from . import Profile, bearer
from ._openai import (
    BATCH_PAGES,
    CANCEL_REFUSALS,
    FILE_PAGES,
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
    resources=(batch_resource(LIFECYCLE), file_resource(list_op=True)),
    pagination=(BATCH_PAGES, FILE_PAGES),
    create=create_batch,
    cancel=cancel_batch,
    stateful_pins={"createFile": {"purpose": "batch"}},
    # the fake also refuses the documented endpoints it does not simulate yet (moderations, images, videos: 400)
    refusals={"createBatch": ((400,), "an input file of another purpose, or an endpoint the fake does not simulate yet (README)"),
              **CANCEL_REFUSALS},
    invariants=(openai_results,),
    **OPENAI_EXTRAS,
    write_warning="creates a two-line chat-completions batch per flow (batch pricing applies)",
)
