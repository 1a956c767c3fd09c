"""The edge values the official SDKs' own generated suites send (openai-python ``tests/api_resources/test_batches.py``
and ``test_files.py``: ``limit=0``, ``after="string"``, ids ``"string"``; retell-sdk ``test_tests.py`` and
``test_call.py``: ``version=0``, ``limit=0``, ``pagination_key="string"``), through the SDKs: each gets the
provider's documented answer, or, where its docs are silent, the OpenAI upstream's (a marked addition), in the
provider's envelope — never a 5xx."""

from __future__ import annotations

import openai
import pytest
import retell
from openai import OpenAI
from retell import Retell

from mockserver.server.live import LiveServer

HEADERS = {"portkey": {"x-portkey-provider": "openai"}}


def sdk(server: LiveServer, provider: str) -> OpenAI:
    return OpenAI(base_url=server.base_url(provider), api_key="sk-edge", max_retries=0, default_headers=HEADERS.get(provider))


@pytest.mark.parametrize("provider", ["anyapi", "portkey", "phaseo"])
def test_openai_generated_suite_values(server: LiveServer, provider: str) -> None:
    client = sdk(server, provider)
    with pytest.raises(openai.BadRequestError) as below:  # OpenAI's bounds 1..100 (AnyAPI's and Portkey's specs; Phaseo: upstream's)
        client.batches.list(after="string", limit=0)
    assert below.value.status_code == 400 and "limit" in below.value.response.text
    page = client.batches.list(after="string")  # a cursor no batch has: an empty last page, the SDK stops
    assert page.data == [] and page.has_more is False
    for call in (lambda: client.batches.retrieve("string"), lambda: client.batches.cancel("string"), lambda: client.files.retrieve("string")):
        with pytest.raises(openai.NotFoundError):
            call()
    with pytest.raises((openai.NotFoundError, openai.BadRequestError)):  # AnyAPI refuses the endpoint first, the others the file
        client.batches.create(completion_window="24h", endpoint="/v1/responses", input_file_id="string", metadata={"foo": "string"})
    if provider == "anyapi":
        return  # AnyAPI documents no file list (405, tests/providers/test_sdk_surface.py)
    with pytest.raises(openai.BadRequestError):
        client.files.list(after="string", limit=0, order="asc", purpose="purpose")
    assert client.files.list(after="string", order="asc", purpose="purpose").data == []


def test_retell_generated_suite_values(server: LiveServer) -> None:
    client = Retell(api_key="key_edge", base_url=server.base_url("retell"), max_retries=0)
    assert client.tests.list_batch_tests(type="retell-llm", llm_id="llm_id", version=0).items == []
    assert client.tests.list_test_case_definitions(type="retell-llm", llm_id="llm_id", pagination_key="string").items == []
    with pytest.raises(retell.UnprocessableEntityError):  # Retell's 422 for an unknown definition id
        client.tests.create_batch_test(response_engine={"llm_id": "llm_id", "type": "retell-llm", "version": 0}, test_case_definition_ids=["string"])
    with pytest.raises(retell.NotFoundError):
        client.tests.get_batch_test("test_case_batch_job_id")
    with pytest.raises(retell.BadRequestError, match="limit"):  # a marked addition: Retell states no minimum
        client.call.list(limit=0, pagination_key="string", sort_order="ascending")
    assert client.call.list(pagination_key="string", sort_order="ascending").items == []
    with pytest.raises(retell.UnprocessableEntityError):
        client.call.retrieve("119c3f8e47135a29e65947eeb34cf12d")
