"""The dashboard in a real browser: the distribution's headless Chromium, driven by Playwright.

Batches are made with the official SDKs (openai for AnyAPI and Phaseo, retell-sdk) and httpx (FormantAI);
the page must show them with the right states, move the clock and show them complete, and show each
batch's timeline, counts, line previews, runs and calls. Skipped only where Chromium cannot run.
Set MOCKSERVER_DASHBOARD_SCREENSHOT=<path.png> to keep the screenshot (docs/dashboard.png is made so).
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from openai import OpenAI
from portkey_ai import Portkey
from retell import Retell

from mockserver.core.settings import Settings
from mockserver.server.live import LiveServer
from tests.conftest import jsonl

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
expect = sync_api.expect

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
XSS = '<img src=x onerror="window.__pwned = 1">'
LLM = {"type": "retell-llm", "llm_id": "llm_dashboard_demo", "version": 1}
KEYS = {"anyapi": "sk-anyapi-demo-0042", "portkey": "pk-demo-0042", "phaseo": "aistats_v1_sk_demo_0042", "retell": "key_retell_demo_0042", "formant": "fmt_live_demo_0042"}
TIMEOUT = 15_000  # ms: the page polls once a second


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent: install the distribution's Chromium (apt-get install -y chromium)")
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=30_000)
        except Exception as exc:
            pytest.skip(f"{CHROMIUM} cannot launch here: {str(exc).splitlines()[0]}")
        yield launched
        launched.close()


@pytest.fixture
def fake() -> Iterator[LiveServer]:
    """A server of its own with a frozen clock: time moves only when the page (or the test) moves it."""
    with LiveServer(Settings(clock_speed=0.0, response_validation="strict")) as server:
        yield server
        assert server.engine.violations == [], server.engine.violations


@pytest.fixture
def page(browser: Any, fake: LiveServer) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    outside: list[str] = []

    def only_the_fake(route: Any) -> None:  # the page must work offline: anything else is refused and noted
        if urlparse(route.request.url).netloc == f"127.0.0.1:{fake.port}":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_fake)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    # a JavaScript error fails the test; Chromium's log line for an answer >= 400 (some tests expect one) does not
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    yield tab
    context.close()
    assert outside == [], f"the dashboard reached outside the fake: {outside}"
    assert errors == [], errors


def make_batches(fake: LiveServer) -> dict[str, str]:
    """One batch per kind of object, each made the way a user's pipeline makes it."""
    ids = {}
    anyapi = OpenAI(base_url=fake.base_url("anyapi"), api_key=KEYS["anyapi"], max_retries=0)
    file = anyapi.files.create(file=("prompts.jsonl", io.BytesIO(jsonl(6))), purpose="batch")
    ids["anyapi"] = anyapi.batches.create(
        input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"job": XSS}
    ).id
    phaseo = OpenAI(base_url=fake.base_url("phaseo"), api_key=KEYS["phaseo"], max_retries=0)
    file = phaseo.files.create(file=("nightly.jsonl", io.BytesIO(jsonl(3, "/v1/embeddings"))), purpose="batch")
    ids["phaseo"] = phaseo.batches.create(input_file_id=file.id, endpoint="/v1/embeddings", completion_window="24h", metadata={"run": "nightly"}).id
    retell = Retell(api_key=KEYS["retell"], base_url=fake.base_url("retell"), max_retries=0)
    cases = [
        retell.tests.create_test_case_definition(name=name, response_engine=LLM, user_prompt="You call the clinic.", metrics=["Books a slot"])
        for name in ("Reschedule", "Cancel", "New patient")
    ]
    ids["retell"] = retell.tests.create_batch_test(
        response_engine=LLM, test_case_definition_ids=[c.test_case_definition_id for c in cases]
    ).test_case_batch_job_id
    ids["retell_calls"] = retell.batch_call.create_batch_call(
        from_number="+14155550123", tasks=[{"to_number": "+14155550177"}, {"to_number": "+14155550178"}], name="Clinic reminders"
    ).batch_call_id
    csv = b"customer_phone,customer_name\n+15550100001,Ann\n+15550100002,Bob\n+15550100003,Cleo\n"
    formant = httpx.post(
        fake.base_url("formant") + "/v1/batch-call",
        headers={"Authorization": f"Bearer {KEYS['formant']}"},
        data={"agent_id": "12", "name": "March follow-ups"},
        files={"file": ("contacts.csv", csv, "text/csv")},
    )
    assert formant.status_code == 200, formant.text
    ids["formant"] = str(formant.json()["data"]["id"])
    return ids


def row(page: Any, provider: str) -> Any:
    """The row of a provider's one job; "retell_calls": Retell's batch call (its batch test is "retell")."""
    if provider.startswith("retell"):
        return page.locator(f'[data-testid=batch-row][data-provider="retell"][data-kind="{"batch_call" if provider == "retell_calls" else "batch_test"}"]')
    return page.locator(f'[data-testid=batch-row][data-provider="{provider}"]')


def test_batches_appear_advance_from_the_page_and_complete(page: Any, fake: LiveServer, tmp_path: Path) -> None:
    ids = make_batches(fake)
    page.goto(fake.url + "/_mock/ui")
    expect(page.locator("[data-testid=batch-row]")).to_have_count(5, timeout=TIMEOUT)
    for provider, status in (("anyapi", "validating"), ("phaseo", "validating"), ("retell", "in_progress"), ("retell_calls", "in_progress"), ("formant", "pending")):
        expect(row(page, provider)).to_have_attribute("data-status", status)
        expect(row(page, provider)).to_have_attribute("data-id", ids[provider])
    expect(page.locator("[data-testid=clock-speed]")).to_have_text("frozen")

    # keys are masked; user input (batch metadata) is shown as text, never run as HTML
    body = page.locator("body").inner_text()
    assert not any(key in body for key in KEYS.values())
    assert "sk-...0042" in body
    expect(row(page, "anyapi").locator(".label-cell")).to_have_text(f"job={XSS}")
    assert page.evaluate("window.__pwned") is None and page.locator("#batch-rows img").count() == 0

    # filters
    page.select_option("[data-testid=filter-provider]", "retell")
    expect(page.locator("[data-testid=batch-row]")).to_have_count(2)
    page.select_option("[data-testid=filter-provider]", "")
    page.fill("[data-testid=filter-text]", "nightly")
    expect(page.locator("[data-testid=batch-row]")).to_have_count(1)
    expect(page.locator("[data-testid=batch-row]")).to_have_attribute("data-provider", "phaseo")
    page.fill("[data-testid=filter-text]", "")

    # an AnyAPI batch before the clock moves: its timeline plans what comes next
    row(page, "anyapi").click()
    expect(page.locator("[data-testid=detail-id]")).to_have_text(ids["anyapi"], timeout=TIMEOUT)
    expect(page.locator("[data-testid=planned-mark]")).to_have_count(3)
    expect(page.locator("[data-testid=now-marker]")).to_have_count(1)
    expect(page.locator("[data-testid=lines-input]")).to_contain_text('"custom_id": "req-0"')

    # advance by one minute from the page
    before = fake.engine.now()
    page.fill("[data-testid=advance-amount]", "1")
    page.select_option("[data-testid=advance-unit]", "60")
    page.click("[data-testid=advance]")
    for provider, status in (("anyapi", "completed"), ("phaseo", "completed"), ("retell", "complete"), ("retell_calls", "complete"), ("formant", "completed")):
        expect(row(page, provider)).to_have_attribute("data-status", status, timeout=TIMEOUT)
    assert fake.engine.now() - before == pytest.approx(60.0)

    # the batch's timeline, counts and line previews
    expect(page.locator("[data-testid=detail-status]")).to_have_text("completed")
    marks = page.locator("[data-testid=timeline-mark]")
    expect(marks).to_have_count(4)
    assert [m.split(" ")[0] for m in marks.all_inner_texts()] == ["validating", "in_progress", "finalizing", "completed"]
    expect(page.locator("[data-testid=planned-mark]")).to_have_count(0)
    expect(page.locator("[data-testid=detail-counts]")).to_have_text("total: 6completed: 6failed: 0")
    expect(page.locator("[data-testid=file-output] h3")).to_have_text("output: 6 lines")
    expect(page.locator("[data-testid=lines-output]")).to_contain_text('"custom_id":"req-4"')
    expect(page.locator("[data-testid=lines-output]")).to_contain_text("… 1 more")

    # Retell runs with their outcomes; FormantAI calls and metrics
    row(page, "retell").click()
    expect(page.locator("[data-testid=run-row]")).to_have_count(3, timeout=TIMEOUT)
    outcomes = page.locator("[data-testid=run-row] .st").all_inner_texts()
    assert set(outcomes) <= {"pass", "fail", "error"}
    expect(page.locator("[data-testid=detail-counts]")).to_contain_text("total_count: 3")
    row(page, "retell_calls").click()  # a batch call: its tasks as the phone calls they became
    expect(page.locator("[data-testid=phone-call-row]")).to_have_count(2, timeout=TIMEOUT)
    expect(page.locator("[data-testid=phone-calls]")).to_contain_text("+14155550178")
    assert set(page.locator("[data-testid=phone-call-row] .st").all_inner_texts()) <= {"ended", "not_connected", "error"}
    assert [m.split(" ")[0] for m in page.locator("[data-testid=timeline-mark]").all_inner_texts()] == ["scheduled", "in_progress", "complete"]
    row(page, "formant").click()
    expect(page.locator("[data-testid=call-row]")).to_have_count(3, timeout=TIMEOUT)
    expect(page.locator("[data-testid=calls]")).to_contain_text("+15550100002")
    expect(page.locator("[data-testid=calls]")).to_contain_text('{"customer_name":"Cleo"}')
    expect(page.locator("[data-testid=metrics]")).to_contain_text("total_processed")

    # what the page showed is what the SDK now reads
    anyapi = OpenAI(base_url=fake.base_url("anyapi"), api_key=KEYS["anyapi"], max_retries=0)
    assert anyapi.batches.retrieve(ids["anyapi"]).request_counts.completed == 6  # type: ignore[union-attr]

    row(page, "anyapi").click()
    expect(page.locator("[data-testid=file-output] h3")).to_have_text("output: 6 lines", timeout=TIMEOUT)

    # a Portkey batch (portkey-ai SDK) caught half-way through, some of its lines failing
    portkey = Portkey(api_key=KEYS["portkey"], virtual_key="openai-vk", base_url=fake.base_url("portkey"))
    file = portkey.files.create(file=("support-tickets.jsonl", io.BytesIO(jsonl(20))), purpose="batch")
    flaky = portkey.batches.create(
        input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"mock_scenario": "partial_failure"}
    )
    expect(row(page, "portkey")).to_have_attribute("data-status", "validating", timeout=TIMEOUT)
    page.fill("[data-testid=advance-amount]", "2")
    page.select_option("[data-testid=advance-unit]", "1")
    page.click("[data-testid=advance]")
    expect(row(page, "portkey")).to_have_attribute("data-status", "in_progress", timeout=TIMEOUT)
    row(page, "portkey").click()
    expect(page.locator("[data-testid=detail-id]")).to_have_text(flaky.id, timeout=TIMEOUT)
    expect(page.locator("[data-testid=planned-mark]")).to_have_count(2)  # finalizing, completed
    counts = portkey.batches.retrieve(flaky.id).request_counts  # what the client reads is what the page shows
    assert counts is not None and counts.completed + counts.failed == 10  # half-way through in_progress's 2 s
    expect(page.locator("[data-testid=detail-counts]")).to_have_text(f"total: 20completed: {counts.completed}failed: {counts.failed}")
    expect(page.locator("[data-testid=file-output]")).to_have_count(0)  # nothing written before it finishes
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    if os.environ.get("MOCKSERVER_DASHBOARD_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["MOCKSERVER_DASHBOARD_SCREENSHOT"])


def test_clock_scenarios_faults_and_journal_from_the_page(page: Any, fake: LiveServer) -> None:
    make_batches(fake)
    page.goto(fake.url + "/_mock/ui")
    expect(page.locator("[data-testid=batch-row]")).to_have_count(5, timeout=TIMEOUT)
    page.click("[data-testid=resume]")
    expect(page.locator("[data-testid=clock-speed]")).to_have_text("×1", timeout=TIMEOUT)
    assert fake.engine.clock.speed == 1.0
    page.fill("[data-testid=speed]", "60")
    page.click("[data-testid=set-speed]")
    expect(page.locator("[data-testid=clock-speed]")).to_have_text("×60", timeout=TIMEOUT)
    page.click("[data-testid=freeze]")
    expect(page.locator("[data-testid=clock-speed]")).to_have_text("frozen", timeout=TIMEOUT)
    assert fake.engine.clock.speed == 0.0

    page.click("[data-testid=tab-rules]")
    page.click("[data-testid=fault-add]")  # the example fault in the box
    expect(page.locator("[data-testid=fault-row]")).to_have_count(1, timeout=TIMEOUT)
    assert [f.operation for f in fake.engine.faults] == ["retrieveBatch"]
    page.click("[data-testid=scenario-add]")
    expect(page.locator("[data-testid=scenario-user]")).to_contain_text('"slow"', timeout=TIMEOUT)
    page.fill("[data-testid=fault-input]", '{"provider": "nowhere"}')
    page.click("[data-testid=fault-add]")
    expect(page.locator("[data-testid=status]")).to_contain_text("nowhere", timeout=TIMEOUT)  # the admin API's 400, shown
    page.click("[data-testid=fault-clear]")
    expect(page.locator("[data-testid=fault-row]")).to_have_count(0, timeout=TIMEOUT)
    page.click("[data-testid=scenario-clear]")
    expect(page.locator("[data-testid=scenario-user]")).to_have_text("no user scenarios", timeout=TIMEOUT)

    page.click("[data-testid=tab-journal]")
    expect(page.locator("[data-testid=journal-row]").first).to_be_visible(timeout=TIMEOUT)
    page.select_option("[data-testid=journal-provider]", "formant")
    expect(page.locator("[data-testid=journal-row]")).to_have_count(1, timeout=TIMEOUT)
    expect(page.locator("[data-testid=journal]")).to_contain_text("/v1/batch-call")
    assert KEYS["formant"] not in page.locator("[data-testid=journal]").inner_text()
    page.click("[data-testid=journal-clear]")
    expect(page.locator("[data-testid=journal-row]")).to_have_count(0, timeout=TIMEOUT)


def test_the_page_sends_the_admin_token_it_was_given(page: Any, fake: LiveServer) -> None:
    seen: list[str | None] = []
    page.on("request", lambda request: seen.append(request.headers.get("authorization")) if "/_mock/ui/state" in request.url else None)
    page.goto(fake.url + "/_mock/ui?token=s3cret-admin")
    expect(page.locator("[data-testid=status]")).to_contain_text("live", timeout=TIMEOUT)
    assert "token" not in page.url  # taken out of the address bar, kept for the tab only
    assert seen and seen[-1] == "Bearer s3cret-admin"
    assert page.evaluate("sessionStorage.getItem('mockserver.adminToken')") == "s3cret-admin"
    page.fill("[data-testid=token]", "typed-token")
    typed = lambda request: "/_mock/ui/state" in request.url and request.headers.get("authorization") == "Bearer typed-token"  # noqa: E731
    with page.expect_request(typed, timeout=TIMEOUT):
        page.click("[data-testid=save-token]")
    none = lambda request: "/_mock/ui/state" in request.url and "authorization" not in request.headers  # noqa: E731
    with page.expect_request(none, timeout=TIMEOUT):
        page.click("[data-testid=forget-token]")


def test_a_refused_token_is_said_on_the_page(page: Any, fake: LiveServer) -> None:
    """Where the admin API is guarded (``401`` without the right bearer token), the page says so and works
    once the token is typed in. The guard here stands in for the admin API's: it answers the page's JSON."""

    def guard(route: Any) -> None:
        if route.request.headers.get("authorization") == "Bearer right-token":
            route.continue_()
        else:
            route.fulfill(status=401, content_type="application/json", body='{"error": {"message": "admin token required"}}')

    page.route("**/_mock/ui/state", guard)
    page.goto(fake.url + "/_mock/ui")
    expect(page.locator("[data-testid=status]")).to_have_text("the admin API needs a token: enter it above", timeout=TIMEOUT)
    page.fill("[data-testid=token]", "wrong-token")
    page.click("[data-testid=save-token]")
    expect(page.locator("[data-testid=status]")).to_have_text("the admin token was refused: enter the right one above", timeout=TIMEOUT)
    page.fill("[data-testid=token]", "right-token")
    page.click("[data-testid=save-token]")
    expect(page.locator("[data-testid=status]")).to_contain_text("live", timeout=TIMEOUT)
