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
    from ..invariants import Ledger, Step


def compare_output(api: Api, created: Created) -> None:
    """Read the finished batch's output file and its ``/output`` (``output_lines`` compares them)."""
    batch = api.call("retrieveBatch", path={"batch_id": created.id})
    output = batch.body.get("output_file_id") if isinstance(batch.body, dict) else None
    if output and api.has("getBatchOutput"):
        api.call("downloadFile", path={"file_id": output})
        api.call("getBatchOutput", path={"batch_id": created.id})


def output_lines(ledger: Ledger, step: Step, example: str) -> None:
    """``GET /batches/{id}/output`` streams the batch's output file: both hold the same lines (``output_matches_file``)."""
    memory = ledger.memory.setdefault("portkey", {"outputs": {}, "files": {}})
    if not step.ok():
        return
    if step.operation_id == "retrieveBatch" and isinstance(step.body, dict) and step.body.get("output_file_id"):
        memory["outputs"][step.path_params.get("batch_id", "")] = str(step.body["output_file_id"])
    elif step.operation_id == "downloadFile":
        memory["files"][step.path_params.get("file_id", "")] = step.text
    elif step.operation_id == "getBatchOutput":
        batch_id = step.path_params.get("batch_id", "")
        output = memory["outputs"].get(batch_id)
        if output is None or output not in memory["files"]:
            return
        from_file = [line for line in memory["files"][output].splitlines() if line.strip()]
        from_output = [line for line in (step.text or "").splitlines() if line.strip()]
        problems = [] if sorted(from_file) == sorted(from_output) else [
            f"{step.label} of batch {batch_id} holds {len(from_output)} line(s), its output file {output} {len(from_file)}; "
            f"{len(set(from_file) - set(from_output))} line(s) of the file are not in /output, "
            f"{len(set(from_output) - set(from_file))} line(s) of /output are not in the file"]
        ledger.result(step, "output_matches_file", problems, example)


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
    invariants=(openai_results, output_lines),
    **OPENAI_EXTRAS,
    write_warning="creates a two-line chat-completions batch per flow through the virtual key's provider",
)
