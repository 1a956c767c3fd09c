from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from mockserver.core.errors import InvalidRequest
from mockserver.spec.loader import Spec
from mockserver.spec.validation import parse_request, response_problems

DOC = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/items": {
            "post": {
                "operationId": "createItem",
                "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["name"],
                                "properties": {"name": {"type": "string"}, "tags": {"type": "object", "maxProperties": 2}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "ok",
                        "headers": {"x-trace": {"required": True, "schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}}},
                    }
                },
            }
        }
    },
}
SPEC = Spec("t", Path("t.yaml"), DOC)
OP = SPEC.operations[0]


def _client() -> TestClient:
    async def endpoint(request: Request) -> JSONResponse:
        try:
            parsed = await parse_request(OP, request, {})
        except InvalidRequest as exc:
            return JSONResponse({"message": exc.message, "param": exc.param}, status_code=400)
        return JSONResponse({"query": parsed.query, "body": parsed.body})

    return TestClient(Starlette(routes=[Route("/items", endpoint, methods=["POST"])]))


def test_valid_request_is_parsed_with_typed_query() -> None:
    r = _client().post("/items?limit=5", json={"name": "a"})
    assert r.status_code == 200 and r.json() == {"query": {"limit": 5}, "body": {"name": "a"}}


@pytest.mark.parametrize(
    ("kwargs", "message", "param"),
    [
        ({"params": {"limit": "abc"}, "json": {"name": "a"}}, "expected an integer", "limit"),
        ({"params": {"limit": "0"}, "json": {"name": "a"}}, "Invalid value for 'limit'", "limit"),
        ({"json": {"name": "a", "extra": 1}}, "Unrecognized request argument supplied: 'extra'", "extra"),
        ({"json": {}}, "Missing required parameter: 'name'", "name"),
        ({"json": {"name": "a", "tags": {"a": "1", "b": "2", "c": "3"}}}, "Invalid value for 'tags'", "tags"),
        ({"content": b"{nope", "headers": {"content-type": "application/json"}}, "could not parse the JSON body", None),
        ({"content": b"[" * 100_000, "headers": {"content-type": "application/json"}}, "could not parse the JSON body", None),
        ({"content": b"name=a", "headers": {"content-type": "text/plain"}}, "Invalid content type 'text/plain'", None),
        ({}, "request body is missing", None),
    ],
)
def test_bad_requests_are_rejected_with_a_message_naming_the_problem(kwargs: dict, message: str, param: str | None) -> None:
    r = _client().post("/items", **kwargs)
    assert r.status_code == 400
    assert message in r.json()["message"]
    assert r.json()["param"] == param


def test_response_problems_cover_status_headers_content_type_and_schema() -> None:
    ok = json.dumps({"id": "x"}).encode()
    json_headers = {"content-type": "application/json", "x-trace": "t"}
    assert response_problems(OP, 200, json_headers, ok) == []
    assert "not declared" in response_problems(OP, 201, json_headers, ok)[0]
    assert "required header 'x-trace'" in response_problems(OP, 200, {"content-type": "application/json"}, ok)[0]
    assert "content type 'text/plain'" in response_problems(OP, 200, {"content-type": "text/plain", "x-trace": "t"}, ok)[0]
    assert "'id' is a required property" in response_problems(OP, 200, json_headers, b"{}")[0]


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_non_finite_numbers_are_not_json(constant: bytes) -> None:
    r = _client().post("/items", content=b'{"name": "a", "tags": {"x": ' + constant + b"}}", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "could not parse the JSON body" in r.json()["message"]
    assert response_problems(OP, 200, {"content-type": "application/json", "x-trace": "t"}, b'{"id": NaN}') == ["body is not valid JSON"]
