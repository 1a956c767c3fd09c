"""Portkey gateway: OpenAI batches behind x-portkey-api-key plus a routing header (virtual key)."""

from __future__ import annotations

from ..invariants import openai_results
from . import Profile
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


def auth(key: str) -> dict[str, str]:
    return {"x-portkey-api-key": key}


PROFILE = Profile(
    name="portkey",
    spec="portkey",
    key_env=("PORTKEY_API_KEY",),
    auth=auth,
    # the gateway also needs a routing header; the fake accepts any value
    extra_headers={"x-portkey-virtual-key": ("PORTKEY_VIRTUAL_KEY", "vk-mockserver-contract")},
    resources=(batch_resource(LIFECYCLE), file_resource(list_op=True)),
    pagination=(BATCH_PAGES, FILE_PAGES),
    create=create_batch,
    cancel=cancel_batch,
    stateful_pins={"createFile": {"purpose": "batch"}},
    refusals=CANCEL_REFUSALS,
    invariants=(openai_results,),
    **OPENAI_EXTRAS,
    write_warning="creates a two-line chat-completions batch per flow through the virtual key's provider",
)
