from __future__ import annotations

from types import SimpleNamespace

from mockserver.contract import fuzz
from mockserver.spec.loader import specs_dir


def test_against_the_fake_everything_runs() -> None:
    config = fuzz.config_dict(fuzz.FuzzOptions(full=True))
    assert config["phases"]["stateful"]["enabled"] and "unexpected-methods" not in config["phases"]["coverage"]
    assert config["generation"]["deterministic"] and "operations" not in config


def test_documented_refusals_widen_positive_acceptance_for_their_operation_only() -> None:
    config = fuzz.config_dict(fuzz.FuzzOptions(full=True), {"cancelBatch": ((400,), "finished batch")})
    (entry,) = config["operations"]
    assert entry["include-operation-id"] == "cancelBatch"
    assert entry["checks"]["positive_data_acceptance"]["expected-statuses"] == [*fuzz.POSITIVE_ACCEPTED, "400"]


def test_a_real_target_gets_no_writes_and_no_undeclared_methods() -> None:
    config = fuzz.config_dict(fuzz.FuzzOptions(full=False, allow_writes=False))
    assert config["phases"]["coverage"]["unexpected-methods"] == [] and not config["phases"]["stateful"]["enabled"]
    assert config["operations"] == [{"include-method": ["POST", "PUT", "PATCH", "DELETE"], "enabled": False}]
    writes = fuzz.config_dict(fuzz.FuzzOptions(full=False, allow_writes=True))["operations"][0]
    assert writes["generation"] == {"mode": "negative"} and writes["phases"] == {"examples": {"enabled": False}}


def test_load_restricts_operations_and_drops_bodiless_writes_against_a_url() -> None:
    spec = specs_dir() / "portkey.yaml"
    schema = fuzz.load(spec, fuzz.FuzzOptions(full=False, allow_writes=True), "http://127.0.0.1:1/portkey/v1", {})
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert "POST /batches" in labels and "POST /batches/{batch_id}/cancel" not in labels and "DELETE /files/{file_id}" not in labels
    only = fuzz.load(spec, fuzz.FuzzOptions(operations=("listBatches",)), "http://127.0.0.1:1/portkey/v1", {})
    assert {result.ok().label for result in only.get_all_operations()} == {"GET /batches"}


def test_a_retyped_file_part_is_not_invalid_data() -> None:
    spec = specs_dir() / "anyapi.yaml"
    schema = fuzz.load(spec, fuzz.FuzzOptions(), "http://127.0.0.1:1/anyapi/v1", {})
    case = schema.find_operation_by_id("createFile").Case(body={"file": 1, "purpose": "batch"}, media_type="multipart/form-data")
    noise = SimpleNamespace(code="ST201", message="Invalid component: in body - violates `type` at /properties/file (was string, became number)")
    real = SimpleNamespace(code="ST201", message="Invalid component: in body - violates `enum` at /properties/purpose")
    assert fuzz._binary_part_retyped(noise, case) and not fuzz._binary_part_retyped(real, case)
