"""Portkey gateway: OpenAI batches behind x-portkey-api-key plus a routing header (virtual key)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..invariants import openai_results
from . import Created, Filter, Profile
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


if TYPE_CHECKING:
    from ..api import Api


def compare_output(api: Api, created: Created) -> None:
    """``GET /batches/{id}/output`` streams the batch's output file: both hold the same lines (``output_matches_file``)."""
    from ..truth import _fail

    batch = api.call("retrieveBatch", path={"batch_id": created.id})
    output = batch.body.get("output_file_id") if isinstance(batch.body, dict) else None
    if not output or not api.has("getBatchOutput"):
        return
    download = api.call("downloadFile", path={"file_id": output})
    streamed = api.call("getBatchOutput", path={"batch_id": created.id})
    if not download.ok() or not streamed.ok():
        return  # each answer is judged on its own (status_code_conformance ...)
    from_file = [line for line in download.text.splitlines() if line.strip()]
    from_output = [line for line in streamed.text.splitlines() if line.strip()]
    problems = [] if sorted(from_file) == sorted(from_output) else [
        f"{streamed.label} of batch {created.id} holds {len(from_output)} line(s), its output file {output} {len(from_file)}; "
        f"{len(set(from_file) - set(from_output))} line(s) of the file are not in /output, "
        f"{len(set(from_output) - set(from_file))} line(s) of /output are not in the file"]
    _fail(api, streamed.label, "output_matches_file", problems)


def auth(key: str) -> dict[str, str]:
    return {"x-portkey-api-key": key}


PROFILE = Profile(
    name="portkey",
    spec="portkey",
    key_env=("PORTKEY_API_KEY",),
    auth=auth,
    # the gateway also needs a routing header; the fake accepts any value
    extra_headers={"x-portkey-virtual-key": ("PORTKEY_VIRTUAL_KEY", "vk-mockserver-contract")},
    # OpenAI's cancel answers the batch in "cancelling" (PROVIDERS.md 1.7)
    resources=(batch_resource(LIFECYCLE, cancel_answers=frozenset({"cancelling"})), file_resource(list_op=True, delete=True)),
    pagination=(BATCH_PAGES_NEWEST, FILE_PAGES_ORDERED),
    filters=(Filter("listFiles", "purpose", "purpose", "file"),),
    compare_results=compare_output,
    create=create_batch,
    cancel=cancel_batch,
    stateful_pins={"createFile": {"purpose": "batch"}},
    refusals=CANCEL_REFUSALS,
    invariants=(openai_results,),
    **OPENAI_EXTRAS,
    write_warning="creates a two-line chat-completions batch per flow through the virtual key's provider",
)
