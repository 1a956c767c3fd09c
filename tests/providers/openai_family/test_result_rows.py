"""A success line of an output file is written from a template (issue 10: the 50,000-line round trip): its bytes
must be those of the row object serialised whole, whatever the request held."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.providers.openai_family.inputs import InputLine
from mockserver.providers.openai_family.results import KINDS, example_body, row_json, success_body, success_row_writer

ENDPOINTS = ["/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/embeddings", "/v1/moderations", "/v1/images/generations", "/v1/videos", "/v1/unknown"]
KEY = "f00dfeed" * 8
text = st.text(max_size=90)
models = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False) | text | st.lists(text, max_size=2) | st.dictionaries(text, text, max_size=2)


def whole_row(endpoint: str, line: InputLine, created: int) -> bytes:
    body = success_body(endpoint, line, KEY, created, 3)
    return row_json({"id": f"batch_req_{KEY[:32]}", "custom_id": line.custom_id,
                     "response": {"status_code": 200, "request_id": "req_" + KEY[32:], "body": body}, "error": None})


def body_for(endpoint: str, prompt: str, model: Any, listed: bool) -> dict[str, Any]:
    if endpoint.endswith("chat/completions") or endpoint.endswith("unknown"):
        content: Any = [{"type": "text", "text": prompt}, {"type": "image_url"}] if listed else prompt
        body: dict[str, Any] = {"messages": [{"role": "user", "content": content}, {"role": "system", "content": "% %s"}]}
    elif endpoint.endswith("embeddings"):
        body = {"input": [prompt, "x"] if listed else prompt}
    else:
        body = {("prompt" if endpoint.endswith("/completions") else "input"): [prompt, 7] if listed else prompt}
    if model is not None:
        body["model"] = model
    return body


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@given(custom_id=text, prompt=text, model=models, listed=st.booleans(), created=st.integers(min_value=0, max_value=2**40))
def test_a_templated_row_is_the_row_serialised_whole(endpoint: str, custom_id: str, prompt: str, model: Any, listed: bool, created: int) -> None:
    line = InputLine(custom_id, body_for(endpoint, prompt, model, listed))
    assert success_row_writer(endpoint)(line, KEY, created, 3) == whole_row(endpoint, line, created)


def test_a_value_orjson_refuses_takes_the_whole_row_path() -> None:
    line = InputLine("big", {"model": 10**30, "messages": [{"role": "user", "content": "hi"}]})
    row = success_row_writer("/v1/chat/completions")(line, KEY, 1, 3)
    assert row == whole_row("/v1/chat/completions", line, 1)
    assert b'"model":1000000000000000000000000000000' in row


@pytest.mark.parametrize("endpoint", ["/v1/" + kind for kind in KINDS])
def test_every_endpoint_body_parses_strictly_and_its_fast_row_is_its_row(endpoint: str) -> None:
    """The body of each batch endpoint (all eight of OpenAI's Batch API, whichever dialect lists them) validates as
    the openai SDK's model in strict mode, for the fixtures' example request and for requests with the options
    the body repeats; the template-written row is the row of that body."""
    from openai.types import Completion, CreateEmbeddingResponse, ImagesResponse, ModerationCreateResponse, Video
    from openai.types.chat import ChatCompletion
    from openai.types.responses import Response

    models = {"chat/completions": ChatCompletion, "completions": Completion, "embeddings": CreateEmbeddingResponse, "responses": Response,
              "moderations": ModerationCreateResponse, "images/generations": ImagesResponse, "images/edits": ImagesResponse, "videos": Video}
    options = {
        "responses": [{"temperature": 0.2, "top_p": 1, "tool_choice": "none", "parallel_tool_calls": False, "metadata": {"a": "b"},
                       "instructions": "Be brief.", "max_output_tokens": 5, "previous_response_id": "resp_1"},
                      {"temperature": True, "max_output_tokens": "5", "metadata": {"a": 1}, "tool_choice": {"type": "function"}}],
        "moderations": [{"input": ["a", "b"]}, {"input": [{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {"url": "u"}}]}],
        "images/generations": [{"model": "dall-e-3"}, {"model": "dall-e-2", "response_format": "b64_json", "n": 3}, {"n": 99, "size": "auto"}],
        "videos": [{"seconds": "8", "size": "1792x1024"}, {"seconds": 8, "size": "huge"}],
    }
    kind = endpoint.removeprefix("/v1/")
    for extra in [{}, *options.get(kind, [])]:
        line = InputLine("c", {**example_body(endpoint, 0), **extra})
        body = success_body(endpoint, line, "ab" * 32, 1_767_225_600, 4)
        models[kind].model_validate(body, strict=True)
        assert orjson.loads(success_row_writer(endpoint)(line, "ab" * 32, 1_767_225_600, 4))["response"]["body"] == body
