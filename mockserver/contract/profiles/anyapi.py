"""AnyAPI: OpenAI-compatible batches; a one-step cancel with a three-field answer; no file delete or list."""

from __future__ import annotations

from ..invariants import openai_results
from . import Profile, bearer
from ._openai import (
    BATCH_PAGES,
    CANCEL_REFUSALS,
    LIFECYCLE_CANCEL_NOW,
    OPENAI_EXTRAS,
    batch_resource,
    cancel_batch,
    create_batch,
    file_resource,
)

PROFILE = Profile(
    name="anyapi",
    spec="anyapi",
    key_env=("ANYAPI_API_KEY",),
    auth=bearer,
    resources=(batch_resource(LIFECYCLE_CANCEL_NOW, cancel_partial=True), file_resource(list_op=False)),
    pagination=(BATCH_PAGES,),
    create=create_batch,
    cancel=cancel_batch,
    stateful_pins={"createFile": {"purpose": "batch"}},
    refusals=CANCEL_REFUSALS,
    invariants=(openai_results,),
    **OPENAI_EXTRAS,
    write_warning="creates a two-line chat-completions batch per flow (cancelled, or left to finish within the poll time)",
)
