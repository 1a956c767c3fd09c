"""Phaseo AI Stats gateway: OpenAI batches with an extended object, a status filter and a 501 mode."""

from __future__ import annotations

import dataclasses

from ..invariants import openai_results
from . import Lifecycle, Profile, bearer
from ._openai import (
    BATCH_PAGES,
    CANCEL_REFUSALS,
    FILE_PAGES,
    OPENAI_EXTRAS,
    SDK_MODELS,
    STATE_TIMESTAMPS,
    batch_resource,
    cancel_batch,
    create_batch,
    file_resource,
)

# Phaseo's documented status words (seed 004: queued, processing, completed, failed, cancelled, expired; cancelling
# is the upstream's word); the fake sends these by default (settings.phaseo_status "documented")
DOCUMENTED_LIFECYCLE = Lifecycle(
    initial=frozenset({"queued"}),
    edges=frozenset(
        {
            ("queued", "processing"), ("queued", "failed"), ("queued", "expired"), ("processing", "completed"),
            ("processing", "expired"), ("queued", "cancelling"), ("processing", "cancelling"),
            ("cancelling", "cancelled"), ("cancelling", "completed"),
        }
    ),
    terminal=frozenset({"failed", "completed", "expired", "cancelled"}),
)
DOCUMENTED_TIMESTAMPS = {
    **{k: v for k, v in STATE_TIMESTAMPS.items() if k not in ("validating", "in_progress", "finalizing")},
    "queued": "created_at", "processing": "in_progress_at",
}
BATCH = dataclasses.replace(batch_resource(DOCUMENTED_LIFECYCLE), state_timestamps=DOCUMENTED_TIMESTAMPS)

PROFILE = Profile(
    name="phaseo",
    spec="phaseo",
    key_env=("PHASEO_API_KEY", "AI_STATS_API_KEY"),
    auth=bearer,
    resources=(BATCH, file_resource(list_op=True)),
    # Phaseo documents only limit (and a status filter); the vendored spec adds OpenAI's `after` cursor
    pagination=(BATCH_PAGES, FILE_PAGES),
    create=create_batch,
    cancel=cancel_batch,
    stateful_pins={"createFile": {"purpose": "batch"}},
    refusals=CANCEL_REFUSALS,
    invariants=(openai_results,),
    # Phaseo's documented status words (queued, processing) are not the openai SDK's Batch literals: only its file
    # objects are held to the SDK's models (the README's Phaseo limits say so; phaseo_status: upstream sends OpenAI's)
    **{**OPENAI_EXTRAS, "sdk_models": {op: model for op, model in SDK_MODELS.items() if "Batch" not in model[0]}},
    write_warning="creates a two-line chat-completions batch per flow",
)
