from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mockserver.spec.loader import Spec, SpecError, load_spec, specs_dir

OAS30 = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/things/{id}": {
            "get": {
                "operationId": "getThing",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}},
            }
        }
    },
    "components": {"schemas": {"Thing": {"type": "object", "properties": {"v": {"type": "number", "nullable": True}, "e": {"type": "string", "enum": ["a"], "nullable": True}}}}},
}


def test_openapi_30_nullable_is_understood() -> None:
    spec = Spec("t", Path("t.yaml"), OAS30)
    validator = spec.validator("/components/schemas/Thing")
    assert validator.is_valid({"v": None, "e": None})
    assert validator.is_valid({"v": 1.5, "e": "a"})
    assert not validator.is_valid({"v": "x"})


def test_operations_are_indexed_with_resolved_parameters() -> None:
    spec = Spec("t", Path("t.yaml"), OAS30)
    (op,) = spec.operations
    assert (op.operation_id, op.method, op.path) == ("getThing", "GET", "/things/{id}")
    assert op.parameters[0][0]["name"] == "id"
    assert op.response(200) is not None and op.response(404) is None


def test_missing_operation_id_and_duplicates_fail_loudly() -> None:
    doc = yaml.safe_load(yaml.safe_dump(OAS30))
    del doc["paths"]["/things/{id}"]["get"]["operationId"]
    with pytest.raises(SpecError, match="no operationId"):
        Spec("t", Path("t.yaml"), doc)
    with pytest.raises(SpecError, match="only OpenAPI 3"):
        Spec("t", Path("t.yaml"), {"swagger": "2.0", "paths": {}})


def test_every_vendored_spec_loads_and_titles_are_unique() -> None:
    names = sorted(p.stem for p in specs_dir().glob("*.yaml"))
    assert {"anyapi", "portkey", "phaseo"} <= set(names)
    titles = [load_spec(name).title for name in names]
    assert len(titles) == len(set(titles))
