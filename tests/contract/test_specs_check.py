from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from mockserver.contract.specs_check import check_specs, default_seed_fields, examples
from mockserver.spec.loader import specs_dir


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "specs"
    shutil.copytree(specs_dir(), target)
    return target


def test_the_vendored_specs_pass() -> None:
    report = check_specs()
    assert report.exit_code == 0 and report.examples > 20 and report.seed_fields > 50, report.summary()


def test_it_finds_each_kind_of_problem(tmp_path: Path) -> None:
    specs = _copy(tmp_path)
    anyapi = yaml.safe_load((specs / "anyapi.yaml").read_text())
    anyapi["info"]["title"] = yaml.safe_load((specs / "portkey.yaml").read_text())["info"]["title"]  # duplicate title
    example = anyapi["paths"]["/batches/{batch_id}"]["get"]["responses"]["200"]["content"]["application/json"]["example"]
    example["created_at"] = "yesterday"  # an example that breaks its schema
    del anyapi["components"]["schemas"]["Batch"]["properties"]["cancelled_at"]  # a field seed 001 shows
    anyapi["paths"]["/batches"]["get"]["responses"]["200"]["description"] = 7  # not valid OpenAPI
    (specs / "anyapi.yaml").write_text(yaml.safe_dump(anyapi))
    report = check_specs(specs, default_seed_fields())
    kinds = {(p.spec, p.check) for p in report.problems}
    assert {("portkey", "title"), ("anyapi", "example"), ("anyapi", "seed_field"), ("anyapi", "openapi")} <= kinds, report.summary()
    assert any("cancelled_at" in p.where for p in report.problems)


def test_examples_are_found_where_openapi_puts_them() -> None:
    document = {"paths": {"/x": {"get": {"parameters": [{"name": "n", "in": "query", "schema": {"type": "integer"}, "example": 3}],
                                         "responses": {"200": {"content": {"application/json": {"schema": {"type": "object"},
                                                                                                "examples": {"a": {"value": {}}}}}}}}}},
                "components": {"schemas": {"S": {"type": "string", "example": "s"}}}}
    found = {(where, schema) for where, schema, _ in examples(document)}
    assert ("/paths/~1x/get/parameters/0/example", "/paths/~1x/get/parameters/0/schema") in found
    assert ("/components/schemas/S/example", "/components/schemas/S") in found
    assert any(where.endswith("/examples/a") for where, _ in found)


def test_seed_fields_cover_every_seed() -> None:
    seeds = json.loads(default_seed_fields().read_text())["seeds"]
    assert {s["provider"] for s in seeds} == {"anyapi", "portkey", "phaseo", "retell", "formant"}
