"""Phaseo AI Stats gateway: OpenAI batches with an extended object; the batch list has no cursor."""

from __future__ import annotations

from . import Pagination, Profile, bearer
from ._openai import FILE_PAGES, LIFECYCLE, batch_resource, cancel_batch, create_batch, file_resource

PROFILE = Profile(
    name="phaseo",
    spec="phaseo",
    key_env=("PHASEO_API_KEY", "AI_STATS_API_KEY"),
    auth=bearer,
    resources=(batch_resource(LIFECYCLE), file_resource(list_op=True)),
    # GET /batches takes only limit (and a status filter): one page, whose has_more must tell the truth
    pagination=(Pagination("listBatches", style="limit", max_limit=100), FILE_PAGES),
    create=create_batch,
    cancel=cancel_batch,
    stateful_pins={"createFile": {"purpose": "batch"}},
    write_warning="creates a two-line chat-completions batch per flow",
)
