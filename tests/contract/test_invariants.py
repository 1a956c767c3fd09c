from __future__ import annotations

from mockserver.contract.invariants import jsonl_custom_ids, load_model
from mockserver.contract.profiles import get_profile
from mockserver.contract.reproduce import ids_in, script, substitute


def test_custom_ids_of_a_jsonl_file() -> None:
    assert jsonl_custom_ids(b'{"custom_id": "a"}\n\n{"custom_id": "b"}\n') == ["a", "b"]
    assert jsonl_custom_ids('{"custom_id": "a"}\n{not json\n') is None
    assert jsonl_custom_ids('{"custom_id": 7}\n') is None


def test_an_sdk_that_is_not_installed_is_no_finding() -> None:
    assert load_model("no_such_sdk.types.Thing") is None
    assert load_model("openai.types.Batch") is not None


def test_ids_are_mapped_from_the_answers() -> None:
    body = {"data": {"id": "b1", "output_file_id": "f1", "count": 3}}
    assert dict(ids_in(body)) == {("data", "id"): "b1", ("data", "output_file_id"): "f1"}
    assert substitute({"input_file_id": "f1", "n": ["b1", "x"]}, {"f1": "f9", "b1": "b7"}) == {"input_file_id": "f9", "n": ["b7", "x"]}


def test_the_script_takes_ids_from_answers_and_the_key_from_the_environment() -> None:
    steps = [
        {"operation_id": "createFile", "label": "POST /files", "method": "POST", "path": "/files", "path_params": {},
         "files": {"file": ["in.jsonl", "e30K", "application/jsonl"]}, "data": {"purpose": "batch"}, "status": 200,
         "body": {"id": "file-1"}, "at": 0.0},
        {"operation_id": "createBatch", "label": "POST /batches", "method": "POST", "path": "/batches", "path_params": {},
         "json": {"input_file_id": "file-1"}, "status": 200, "body": {"id": "batch-1"}, "at": 0.1},
        *[{"operation_id": "retrieveBatch", "label": "GET /batches/{batch_id}", "method": "GET", "path": "/batches/{batch_id}",
           "path_params": {"batch_id": "batch-1"}, "status": 200, "body": {"id": "batch-1"}, "at": 0.5 + n} for n in range(3)],
    ]
    text = script(get_profile("portkey"), "http://127.0.0.1:1/portkey/v1", steps)
    compile(text, "finding.py", "exec")
    assert "os.environ['PORTKEY_API_KEY']" in text and "os.environ.get('PORTKEY_VIRTUAL_KEY'" in text
    assert "file_1 = r.json()['id']" in text and "json={'input_file_id': file_1}" in text
    assert "for _ in range(3):  # polling" in text and "f'/batches/{batch_1}'" in text and "time.sleep(1.00)" in text
