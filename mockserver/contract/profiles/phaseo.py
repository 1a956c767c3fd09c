"""Phaseo AI Stats gateway: OpenAI batches with an extended object, a status filter and a 501 mode."""

from __future__ import annotations

from . import Profile, bearer
from ..invariants import openai_results
from ._openai import OPENAI_EXTRAS, BATCH_PAGES, CANCEL_REFUSALS, FILE_PAGES, LIFECYCLE, batch_resource, cancel_batch, create_batch, file_resource

PROFILE = Profile(
    name="phaseo",
    spec="phaseo",
    key_env=("PHASEO_API_KEY", "AI_STATS_API_KEY"),
    auth=bearer,
    resources=(batch_resource(LIFECYCLE), file_resource(list_op=True)),
    # Phaseo documents only limit (and a status filter); the vendored spec adds OpenAI's `after` cursor
    pagination=(BATCH_PAGES, FILE_PAGES),
    create=create_batch,
    cancel=cancel_batch,
    stateful_pins={"createFile": {"purpose": "batch"}},
    refusals=CANCEL_REFUSALS,
    invariants=(openai_results,),
    **OPENAI_EXTRAS,
    write_warning="creates a two-line chat-completions batch per flow",
)
