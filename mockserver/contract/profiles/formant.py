"""FormantAI Voice batch calls: a CSV of phone numbers becomes calls; metrics count the calls by state (no cancel)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..invariants import formant_metrics
from . import Created, Filter, Lifecycle, Pagination, Profile, Resource, View, bearer

if TYPE_CHECKING:
    from ..api import Api

LIFECYCLE = Lifecycle(
    initial=frozenset({"pending"}),
    edges=frozenset({("pending", "processing"), ("pending", "failed"), ("processing", "completed"), ("processing", "failed")}),
    terminal=frozenset({"completed", "failed"}),
)

# a call's final outcomes: each has a counter, and together they make total_processed
FINAL = ("completed_count", "failed_count", "busy_count", "no_answer_count", "unreachable_count", "socket_failure_count")


def metrics_add_up(metrics: dict[str, Any]) -> list[str]:
    counts = {k: v for k, v in metrics.items() if k.endswith("_count") or k == "total_processed"}
    if not all(isinstance(v, int) for v in counts.values()):
        return []
    problems = [f"{k} is negative ({v})" for k, v in counts.items() if v < 0]
    if all(k in counts for k in FINAL) and "total_processed" in counts:
        final = sum(counts[k] for k in FINAL)
        if final != counts["total_processed"]:
            problems.append(f"the final-outcome counts add up to {final}, but total_processed is {counts['total_processed']}")
    if "success_count" in counts and "completed_count" in counts and counts["success_count"] > counts["completed_count"]:
        problems.append(f"success_count {counts['success_count']} exceeds completed_count {counts['completed_count']}")
    rate, processed = metrics.get("success_rate"), counts.get("total_processed")
    if isinstance(rate, (int, float)) and not 0 <= rate <= 100:
        problems.append(f"success_rate {rate} is outside 0..100")
    if isinstance(rate, (int, float)) and isinstance(processed, int) and processed > 0 and "success_count" in counts:
        share = counts["success_count"] / processed
        # FormantAI documents two conventions (README, FormantAI): a fraction of the processed calls (the seed's
        # 0.87), or a percentage of all recipients (the guide's 84.0), which is at most 100 * share while calls
        # are still pending and equals it once every recipient is processed
        if abs(rate - share) > 0.01 and rate > 100 * share + 1:
            problems.append(
                f"success_rate {rate} matches neither success_count / total_processed = {share:.3f} nor a percentage of the "
                f"recipients (at most {100 * share:.1f})"
            )
    return problems


def create_batch_call(api: Api) -> Created:
    """Upload a two-row CSV; the calls cannot be cancelled, so real runs need a test number (FORMANT_TEST_PHONE)."""
    from ._openai import _refused

    phone = api.context["phone"]
    csv = f"customer_phone,first_name\n{phone},Ada\n{phone},Grace\n".encode()
    exchange = api.call("createBatchCall", files={"file": ("mockserver_contract.csv", csv, "text/csv")},
                        data={"agent_id": str(api.context["agent_id"]), "name": "mockserver contract"})
    body = exchange.body.get("data") if isinstance(exchange.body, dict) else None
    if not exchange.ok() or not isinstance(body, dict) or "id" not in body:
        _refused(api, exchange)
    batch_id = str(body["id"])
    api.report.created.append(f"batch call {batch_id} (FormantAI has no cancel; its calls run)")
    return Created("batch_call", batch_id)


def sent(step: Any) -> dict[str, Any]:
    """What a create sent that every later answer must give back: the name, the agent, one recipient per CSV row."""
    data = step.data or {}
    echo: dict[str, Any] = {k: data[k] for k in ("name", "agent_id") if k in data}
    if step.files and "file" in step.files:
        rows = [line for line in step.files["file"][1].decode("utf-8", "replace").splitlines() if line.strip()]
        echo["total_recipients"] = max(0, len(rows) - 1)  # the first line is the header
    return echo


def probe_unknown_agent(api: Api) -> None:
    """A batch call for an agent that does not exist is refused (the spec: 404 not_found)."""
    from ..truth import check_refused

    agent = str(api.context["unknown_agent_id"])
    csv = f"customer_phone,first_name\n{api.context['phone']},Ada\n".encode()
    exchange = api.call("createBatchCall", files={"file": ("mockserver_contract.csv", csv, "text/csv")},
                        data={"agent_id": agent, "name": "mockserver contract (unknown agent)"})
    check_refused(api, exchange, f"the agent {agent}, which does not exist")


def poll_metrics(api: Api, created: Created) -> None:
    api.call("get-batch-call-metrics", path={"batch_id": created.id})


PROFILE = Profile(
    name="formant",
    spec="formant",
    key_env=("FORMANT_API_KEY",),
    auth=bearer,
    resources=(
        Resource(
            name="batch_call",
            id_field="id",
            views=(View("createBatchCall", envelope=("data",), creates=True), View("getBatchCall", envelope=("data",)),
                   View("listBatchCalls", many=True)),
            retrieve=("getBatchCall", "batch_id"),
            lifecycle=LIFECYCLE,
            state_timestamps={"pending": "created_at", "completed": "completed_at", "failed": "completed_at"},
            stable=("id", "name", "agent_id", "total_recipients", "created_at"),
            monotonic=("updated_at",),
            echo=sent,
        ),
        Resource(
            name="batch_metrics",
            id_field=None,
            views=(View("get-batch-call-metrics", envelope=("data",), id_from_path="batch_id"),),
            retrieve=("get-batch-call-metrics", "batch_id"),
            status=None,
            # calls never leave a final outcome: those counts only grow (in_progress and pending_retry come and go)
            monotonic=(*FINAL, "success_count", "total_processed"),
            consistency=metrics_add_up,
        ),
    ),
    # newest first: the vendored spec's order
    pagination=(Pagination("listBatchCalls", style="offset", max_limit=100, cursor_param="offset", total="total", order="desc"),),
    filters=(Filter("listBatchCalls", "agent_id", "agent_id", "batch_call"),),
    probe_unknown_reference=probe_unknown_agent,
    create=create_batch_call,
    poll_related=poll_metrics,
    invariants=(formant_metrics,),
    # a real run places calls: it needs an agent and a number you own; the fake accepts any positive agent id
    # a CSV the schema cannot describe: a customer_phone column of E.164 numbers
    samples={"createBatchCall": {"file": b"customer_phone,first_name\n+15550100001,Ada\n"}},
    context_env={"agent_id": ("FORMANT_AGENT_ID", "1"), "phone": ("FORMANT_TEST_PHONE", "+15550100001"),
                 # an agent id that does not exist on the account (the fake has every positive agent)
                 "unknown_agent_id": ("FORMANT_UNKNOWN_AGENT_ID", "0")},
    write_warning="creates a batch call of two calls to FORMANT_TEST_PHONE per flow; calls cannot be cancelled",
)
