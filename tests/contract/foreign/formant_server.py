"""A FormantAI-style batch-calls server, written for these tests from specs/formant.yaml and docs.formantai.com as
PROVIDERS.md quotes them (no mockserver import, no line of the fake): a CSV upload becomes one call per row
(pending -> processing -> completed, a call every ``per_call`` seconds), listed newest first with limit/offset and
an agent filter, read one by one, and counted by the metrics. Agents 1..1000 exist.

``BUGS`` are planted faults, switched on by name (``server.reset(*bugs)`` while it serves): each is a mistake a
hand-written batch-calls server makes; the contract kit must catch every one while the faithful server passes.
"""

from __future__ import annotations

import datetime
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.contract.foreign.spec_rules import Rules, integer

# name -> what the planted fault does (the check that must catch it: tests/contract/test_foreign_gateways.py)
BUGS = {
    "name_from_filename": "a batch call is named after the uploaded file, not the name field",
    "header_row_counted": "total_recipients counts the CSV's header row as a recipient",
    "unknown_agent_accepted": "a batch call for an agent that does not exist is accepted",
    "agent_filter_ignored": "GET /v1/batch-calls ignores ?agent_id=",
    "oldest_first": "GET /v1/batch-calls lists oldest first (the spec: newest first)",
    "total_is_page_size": "the list's total is the size of the page, not of the whole list",
    "unknown_batch_detail_404": "an unknown batch id answers the framework's 404 {'detail': 'Not Found'}",
    "unknown_metrics_zeros": "the metrics of an unknown batch id answer 200 with every count 0",
    "created_at_local_time": "created_at is India time (UTC+05:30) written with a Z",
    "ratelimit_header_text": "X-RateLimit-Remaining says 'unlimited' (the spec: an integer)",
}

AGENTS = range(1, 1001)
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
RULES = Rules("formant")
FINAL = ("completed_count", "failed_count", "busy_count", "no_answer_count", "unreachable_count", "socket_failure_count")


def error(status: int, message: str, kind: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)


def iso(moment: float) -> str:
    return datetime.datetime.fromtimestamp(int(moment), datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Campaign:
    id: int
    name: str
    agent_id: int
    recipients: int
    created: float


@dataclass
class FormantCalls:
    key: str
    bugs: set[str] = field(default_factory=set)
    pending: float = 0.15
    per_call: float = 0.1
    campaigns: dict[int, Campaign] = field(default_factory=dict)
    next_id: int = 1
    lock: threading.RLock = field(default_factory=threading.RLock)

    def reset(self, *bugs: str) -> None:
        unknown = set(bugs) - set(BUGS)
        if unknown:
            raise ValueError(f"unknown bugs: {sorted(unknown)}")
        with self.lock:
            self.bugs = set(bugs)
            self.campaigns.clear()

    # -- state ---------------------------------------------------------------------------------------

    def _progress(self, campaign: Campaign, now: float) -> tuple[str, int, float, float | None]:
        """(status, calls done, last change, completion moment)."""
        started = campaign.created + self.pending
        if now < started:
            return "pending", 0, campaign.created, None
        done = min(campaign.recipients, int((now - started) / self.per_call))
        ends = started + self.per_call * campaign.recipients
        if now >= ends:
            return "completed", campaign.recipients, ends, ends
        return "processing", done, started + self.per_call * done, None

    def _view(self, campaign: Campaign) -> dict[str, Any]:
        status, _, changed, completed = self._progress(campaign, time.time())
        created = campaign.created + (19800 if "created_at_local_time" in self.bugs else 0)
        return {"id": campaign.id, "name": campaign.name, "agent_id": campaign.agent_id, "status": status,
                "total_recipients": campaign.recipients, "created_at": iso(created),
                "updated_at": iso(max(changed, created)), "completed_at": iso(completed) if completed is not None else None}

    def _metrics(self, campaign: Campaign | None) -> dict[str, Any]:
        if campaign is None:
            status, done = "pending", 0
        else:
            status, done, _, _ = self._progress(campaign, time.time())
        counts = {name: 0 for name in (*FINAL, "in_progress_count", "pending_retry_count", "success_count", "total_processed")}
        counts.update(completed_count=done, success_count=done, total_processed=done,
                      in_progress_count=1 if status == "processing" and campaign and done < campaign.recipients else 0)
        return {**counts, "success_rate": (done / done) if done else 0.0, "avg_duration_seconds": 31.5 if done else 0.0}

    # -- HTTP ------------------------------------------------------------------------------------------

    def app(self) -> Starlette:
        def guarded(handler: Any) -> Any:
            async def endpoint(request: Request) -> Response:
                if request.headers.get("authorization") != f"Bearer {self.key}":
                    return error(401, "Invalid or missing API key", "authentication_error")
                with self.lock:
                    response: Response = await handler(request)
                # the documented rate-limit headers (docs: "Every API response may include rate limit headers")
                remaining = "unlimited" if "ratelimit_header_text" in self.bugs else "49"
                response.headers.update({"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": remaining,
                                         "X-RateLimit-Reset": iso(time.time() + 60).replace("Z", "+00:00")})
                return response
            return endpoint

        return Starlette(routes=[
            Route("/v1/batch-call", guarded(self.create), methods=["POST"]),
            Route("/v1/batch-calls", guarded(self.list), methods=["GET"]),
            Route("/v1/batch-calls/{batch_id}", guarded(self.get), methods=["GET"]),
            Route("/v1/batch-calls/{batch_id}/metrics", guarded(self.metrics), methods=["GET"]),
        ])

    async def create(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return error(400, "The body must be multipart/form-data.", "invalid_request")
        try:
            form = await request.form()
        except Exception:
            return error(400, "The multipart body could not be read.", "invalid_request")
        values: dict[str, Any] = {}
        content, filename = b"", "contacts.csv"
        for key in form:
            if len(form.getlist(key)) != 1:
                return error(400, f"'{key}' is given more than once.", "invalid_request")
            value = form[key]
            if isinstance(value, UploadFile):
                content, filename = await value.read(), value.filename or filename
                values[key] = content.decode("utf-8", "replace")
            elif key == "agent_id":
                values[key] = integer(value) if integer(value) is not None else value
            else:
                values[key] = value
                if key == "file":
                    content = value.encode()
        problem = RULES.problem("CreateBatchCallRequest", values)
        if problem:
            return error(400, problem, "invalid_request")
        if not filename.lower().endswith(".csv"):
            return error(400, "The file must be a .csv file.", "invalid_request")
        rows = _rows(content)
        if isinstance(rows, str):
            return error(400, rows, "invalid_request")
        if values["agent_id"] not in AGENTS and "unknown_agent_accepted" not in self.bugs:
            return error(404, f"Agent {values['agent_id']} not found.", "not_found")
        name = filename.rsplit(".", 1)[0] if "name_from_filename" in self.bugs else values["name"]
        recipients = rows + (1 if "header_row_counted" in self.bugs else 0)
        campaign = Campaign(self.next_id, name, values["agent_id"], recipients, time.time())
        self.next_id += 1
        self.campaigns[campaign.id] = campaign
        view = self._view(campaign)
        return JSONResponse({"data": {k: view[k] for k in ("id", "name", "agent_id", "status", "total_recipients", "created_at")}})

    async def list(self, request: Request) -> Response:
        query = request.query_params
        if any(len(query.getlist(k)) > 1 for k in query):
            return error(400, "A query parameter is given more than once.", "invalid_request")
        limit, offset = integer(query.get("limit", "20")), integer(query.get("offset", "0"))
        agent = integer(query["agent_id"]) if "agent_id" in query else None
        if limit is None or not 1 <= limit <= 100 or offset is None or offset < 0 or ("agent_id" in query and agent is None):
            return error(400, "limit must be 1..100, offset at least 0, agent_id a whole number.", "invalid_request")
        campaigns = list(self.campaigns.values())
        if "oldest_first" not in self.bugs:
            campaigns.reverse()
        if agent is not None and "agent_filter_ignored" not in self.bugs:
            campaigns = [c for c in campaigns if c.agent_id == agent]
        page = campaigns[offset:offset + limit]
        total = len(page) if "total_is_page_size" in self.bugs else len(campaigns)
        return JSONResponse({"data": [self._view(c) for c in page], "has_more": offset + len(page) < len(campaigns),
                             "total": total})

    def _find(self, request: Request) -> Campaign | Response:
        batch_id = integer(request.path_params["batch_id"])
        if batch_id is None:
            return error(400, "batch_id must be a whole number.", "invalid_request")
        campaign = self.campaigns.get(batch_id)
        if campaign is None:
            return error(404, f"Batch call {batch_id} not found.", "not_found")
        return campaign

    async def get(self, request: Request) -> Response:
        found = self._find(request)
        if isinstance(found, Response):
            if found.status_code == 404 and "unknown_batch_detail_404" in self.bugs:
                return JSONResponse({"detail": "Not Found"}, status_code=404)
            return found
        return JSONResponse({"data": self._view(found)})

    async def metrics(self, request: Request) -> Response:
        found = self._find(request)
        if isinstance(found, Response):
            if found.status_code == 404 and "unknown_metrics_zeros" in self.bugs:
                return JSONResponse({"data": self._metrics(None)})
            return found
        return JSONResponse({"data": self._metrics(found)})


def _rows(content: bytes) -> int | str:
    """The number of recipients of a CSV upload, or why it is refused."""
    lines = [line.strip() for line in content.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return "The CSV file is empty."
    header = [h.strip() for h in lines[0].split(",")]
    if "customer_phone" not in header:
        return "The CSV file needs a customer_phone column."
    column = header.index("customer_phone")
    for number, line in enumerate(lines[1:], 2):
        cells = line.split(",")
        if len(cells) <= column or not E164.match(cells[column].strip()):
            return f"Row {number}: customer_phone must be an E.164 number (e.g. +919876543210)."
    if len(lines) < 2:
        return "The CSV file has no recipients."
    return len(lines) - 1
