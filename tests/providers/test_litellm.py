"""A batch flow per OpenAI-compatible provider through LiteLLM's batch SDK (``litellm.create_file`` …
``cancel_batch``), which validates every batch answer as a ``LiteLLMBatch`` (the openai SDK's ``Batch``).

LiteLLM is not in the test extra (a 44 MB wheel that pulls boto3, tokenizers and huggingface-hub): these tests
run when it is installed (``pip install litellm``) and are skipped otherwise. What a provider documents that
LiteLLM cannot parse is asserted as such, with the switch that makes the flow complete (README: Typed clients).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from pydantic import ValidationError

from mockserver.core.settings import Settings
from mockserver.server.live import LiveServer
from tests.conftest import jsonl

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # LiteLLM fetches a price list from GitHub on import otherwise
litellm = pytest.importorskip("litellm", reason="LiteLLM is not installed (optional, not in the test extra: pip install litellm)")

pytestmark = pytest.mark.filterwarnings("ignore:Item.*ReadOnly:UserWarning", "ignore:Items.*ReadOnly:UserWarning")  # LiteLLM's types

PORTKEY = {"x-portkey-api-key": "pk-litellm", "x-portkey-provider": "openai"}


def options(server: LiveServer, provider: str) -> dict[str, Any]:
    return {"custom_llm_provider": "openai", "api_base": server.base_url(provider), "api_key": "sk-litellm",
            "extra_headers": PORTKEY if provider == "portkey" else None, "max_retries": 0}


def fresh(metadata: dict[str, str] | None) -> dict[str, str] | None:
    """A new dict per call: LiteLLM adds its ``hidden_params`` to the metadata dict it is given."""
    return dict(metadata) if metadata else None


def run_flow(server: LiveServer, provider: str, endpoint: str = "/v1/chat/completions", metadata: dict[str, str] | None = None) -> Any:
    kw = options(server, provider)
    file = litellm.create_file(file=("in.jsonl", io.BytesIO(jsonl(2, url=endpoint))), purpose="batch", **kw)
    batch = litellm.create_batch(completion_window="24h", endpoint=endpoint, input_file_id=file.id, metadata=fresh(metadata), **kw)
    assert batch.status == "validating"
    server.engine.clock.advance(60)
    done = litellm.retrieve_batch(batch_id=batch.id, **kw)
    assert done.status == "completed" and done.request_counts.completed == 2
    assert len(litellm.file_content(file_id=done.output_file_id, **kw).content.splitlines()) == 2
    if provider != "portkey":  # litellm.list_batches drops extra_headers, so Portkey's gateway refuses it (below)
        assert batch.id in [b.id for b in litellm.list_batches(**kw).data]
    other = litellm.create_batch(completion_window="24h", endpoint=endpoint, input_file_id=file.id, metadata=fresh(metadata), **kw)
    return litellm.cancel_batch(batch_id=other.id, **kw)


@pytest.fixture(scope="module")
def switched() -> Iterator[LiveServer]:
    with LiveServer(Settings(response_validation="strict", clock_speed=0.0, anyapi_cancel="full", phaseo_status="upstream")) as server:
        yield server


@pytest.mark.parametrize("endpoint", ["/v1/chat/completions", "/v1/responses", "/v1/embeddings", "/v1/moderations"])
def test_portkey_completes_with_the_default_switches(frozen_server: LiveServer, endpoint: str) -> None:
    assert run_flow(frozen_server, "portkey", endpoint).status == "cancelling"
    with pytest.raises(openai.BadRequestError, match="x-portkey-provider header is required"):  # LiteLLM's limitation
        litellm.list_batches(**options(frozen_server, "portkey"))


def test_anyapi_needs_anyapi_cancel_full(frozen_server: LiveServer, switched: LiveServer) -> None:
    with pytest.raises(ValidationError, match="LiteLLMBatch"):  # the documented {id, object, status}
        run_flow(frozen_server, "anyapi")
    assert run_flow(switched, "anyapi").status == "cancelled"


def test_phaseo_needs_the_upstream_status_words(frozen_server: LiveServer, switched: LiveServer) -> None:
    with pytest.raises(ValidationError, match="'queued'"):
        run_flow(frozen_server, "phaseo")
    assert run_flow(frozen_server, "phaseo", metadata={"mock_phaseo_status": "upstream"}).status == "cancelling"
    assert run_flow(switched, "phaseo", "/v1/responses").status == "cancelling"
