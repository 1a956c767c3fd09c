"""What ``mockserver record`` makes of Retell traffic (``Provider.recorder``): ``test_case_definition``,
``batch_test`` and ``batch_call`` fixtures.

Definitions and batch tests are the last objects seen (create, get, update, list; a deleted definition is
dropped), timestamps included; a batch-test fixture keeps its recorded status and counts (it never moves). A batch
call is its create body (the answer does not carry the tasks) with its recorded ``batch_call_id``; its
``creation_timestamp`` is left out, so its calls are dialled from the fake's start on the fake's schedule.
"""

from __future__ import annotations

import json
from typing import Any

from ..base import Observed
from .models import DEFINITION_FIELDS

DEFINITION_OPERATIONS = frozenset({"createTestCaseDefinition", "getTestCaseDefinition", "updateTestCaseDefinition"})
BATCH_TEST_OPERATIONS = frozenset({"createBatchTest", "getBatchTest"})
BATCH_TEST_FIELDS = ("test_case_batch_job_id", "status", "response_engine", "pass_count", "fail_count", "error_count",
                     "total_count", "creation_timestamp", "user_modified_timestamp")
BATCH_CALL_FIELDS = ("from_number", "tasks", "name", "trigger_timestamp", "reserved_concurrency", "call_time_window")


def _items(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    return list(data.get("items") or []) if isinstance(data, dict) else []


class RetellRecorder:
    def __init__(self) -> None:
        self.definitions: dict[str, dict[str, Any]] = {}
        self.batch_tests: dict[str, dict[str, Any]] = {}
        self.batch_calls: dict[str, dict[str, Any]] = {}

    def observe(self, exchange: Observed) -> None:
        if not 200 <= exchange.status < 300:
            return
        op = exchange.operation_id
        if op == "deleteTestCaseDefinition":
            self.definitions.pop(next(iter(exchange.path_params.values()), ""), None)
            return
        try:
            data = json.loads(exchange.body) if exchange.body else None
        except ValueError:
            return
        if op in DEFINITION_OPERATIONS or op == "listTestCaseDefinitions":
            for item in _items(data) if op == "listTestCaseDefinitions" else [data]:
                if isinstance(item, dict) and isinstance(item.get("test_case_definition_id"), str):
                    keep = (*DEFINITION_FIELDS, "test_case_definition_id", "creation_timestamp", "user_modified_timestamp")
                    self.definitions[item["test_case_definition_id"]] = {k: item[k] for k in keep if item.get(k) is not None}
        elif op in BATCH_TEST_OPERATIONS or op == "listBatchTests":
            for item in _items(data) if op == "listBatchTests" else [data]:
                if isinstance(item, dict) and isinstance(item.get("test_case_batch_job_id"), str):
                    self.batch_tests[item["test_case_batch_job_id"]] = {k: item[k] for k in BATCH_TEST_FIELDS if item.get(k) is not None}
        elif op == "createBatchCall" and isinstance(data, dict) and isinstance(data.get("batch_call_id"), str):
            if isinstance(exchange.request, dict):
                body = {k: exchange.request[k] for k in BATCH_CALL_FIELDS if exchange.request.get(k) is not None}
                self.batch_calls[data["batch_call_id"]] = {**body, "batch_call_id": data["batch_call_id"]}

    def fixtures(self) -> list[tuple[str, dict[str, Any]]]:
        return [*(("test_case_definition", d) for d in self.definitions.values()),
                *(("batch_test", b) for b in self.batch_tests.values()),
                *(("batch_call", c) for c in self.batch_calls.values())]


def recorder() -> RetellRecorder:
    return RetellRecorder()
