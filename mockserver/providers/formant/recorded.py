"""What ``mockserver record`` makes of FormantAI traffic: ``batch_call`` fixtures (``Provider.recorder``).

The last batch-call object seen of each id (create, get, list), with the last metrics seen for it, which the
fixture's metrics endpoint then answers exactly; a FormantAI fixture never moves (``models.load_fixture``).
"""

from __future__ import annotations

import json
from typing import Any

from ..base import Observed

FIELDS = ("id", "name", "agent_id", "status", "total_recipients", "created_at", "updated_at")


class FormantRecorder:
    def __init__(self) -> None:
        self.batches: dict[int, dict[str, Any]] = {}
        self.metrics: dict[int, dict[str, Any]] = {}

    def observe(self, exchange: Observed) -> None:
        if not 200 <= exchange.status < 300:
            return
        try:
            data = json.loads(exchange.body).get("data")
        except (ValueError, AttributeError):
            return
        op = exchange.operation_id
        if op == "get-batch-call-metrics" and isinstance(data, dict):
            batch_id = exchange.path_params.get("batch_id", "")
            if batch_id.isdigit():
                self.metrics[int(batch_id)] = data
            return
        items = data if op == "listBatchCalls" and isinstance(data, list) else [data] if op in ("createBatchCall", "getBatchCall") else []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), int) and not isinstance(item["id"], bool):
                self.batches[item["id"]] = {**self.batches.get(item["id"], {}), **{k: item[k] for k in FIELDS if item.get(k) is not None}}

    def fixtures(self) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for batch_id, batch in self.batches.items():
            data = dict(batch)
            if batch_id in self.metrics:
                data["metrics"] = self.metrics[batch_id]
            out.append(("batch_call", data))
        return out


def recorder() -> FormantRecorder:
    return FormantRecorder()
