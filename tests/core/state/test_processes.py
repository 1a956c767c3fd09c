"""Real `mockserver serve` processes on one state: SIGKILL under load loses no acknowledged write and reuses no
id; `--workers 2` is one fake; two servers on one real PostgreSQL agree on every object, the clock and every
page; a killed server restarted on its state file carries a batch on to completed."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.providers.openai_family.lifecycle import BATCH_LIFECYCLE

from .conftest import Server

KEY = {"Authorization": "Bearer sk-crash"}
LINE = {"method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}}
EDGES = BATCH_LIFECYCLE.edges()


def jsonl(n: int) -> bytes:
    return b"".join(json.dumps({"custom_id": f"r{i}", **LINE}).encode() + b"\n" for i in range(n))


def reachable(source: str) -> set[str]:
    seen, todo = {source}, [source]
    while todo:
        state = todo.pop()
        for a, b in EDGES:
            if a == state and b not in seen:
                seen.add(b)
                todo.append(b)
    return seen


def create(client: httpx.Client, base: str, lines: int = 2) -> tuple[dict[str, Any], dict[str, Any]]:
    r = client.post(f"{base}/anyapi/v1/files", headers=KEY, files={"file": ("in.jsonl", jsonl(lines))}, data={"purpose": "batch"})
    assert r.status_code == 200, r.text
    file = r.json()
    r = client.post(f"{base}/anyapi/v1/batches", headers=KEY, json={"input_file_id": file["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"})
    assert r.status_code == 200, r.text
    return file, r.json()


def consistent(batch: dict[str, Any]) -> bool:
    counts = batch["request_counts"]
    return counts["completed"] >= 0 and counts["failed"] >= 0 and counts["completed"] + counts["failed"] <= counts["total"]


class Ledger:
    """What the server acknowledged (a 2xx answer arrived): ids created, the last state seen of each batch."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.created: list[str] = []  # every file and batch id acknowledged as new, duplicates kept
        self.files: set[str] = set()
        self.last: dict[str, str] = {}  # batch id -> the latest status acknowledged
        self.completed: dict[str, int] = defaultdict(int)
        self.errors: list[str] = []  # 5xx answers: a server that answers is never allowed one

    def answered(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 500:
            with self.lock:
                self.errors.append(f"{response.request.method} {response.request.url.path} -> {response.status_code}: {response.text[:200]}")
        return response

    def saw(self, batch: dict[str, Any]) -> None:
        with self.lock:
            self.last[batch["id"]] = batch["status"]
            if "request_counts" in batch:  # AnyAPI's cancel answer is a short object: id and status
                self.completed[batch["id"]] = max(self.completed[batch["id"]], batch["request_counts"]["completed"])


def load(base: str, ledger: Ledger, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(timeout=10.0) as client:
        while not stop.is_set():
            try:
                choice = rng.random()
                with ledger.lock:
                    known = list(ledger.last)
                if choice < 0.4 or not known:
                    r = ledger.answered(client.post(f"{base}/anyapi/v1/files", headers=KEY, files={"file": ("in.jsonl", jsonl(rng.randint(1, 4)))}, data={"purpose": "batch"}))
                    if r.status_code != 200:
                        continue
                    with ledger.lock:
                        ledger.created.append(r.json()["id"])
                        ledger.files.add(r.json()["id"])
                    body = {"input_file_id": r.json()["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}
                    r = ledger.answered(client.post(f"{base}/anyapi/v1/batches", headers=KEY, json=body))
                    if r.status_code == 200:
                        with ledger.lock:
                            ledger.created.append(r.json()["id"])
                        ledger.saw(r.json())
                elif choice < 0.6:
                    r = ledger.answered(client.post(f"{base}/anyapi/v1/batches/{rng.choice(known)}/cancel", headers=KEY))
                    if r.status_code == 200:
                        ledger.saw(r.json())
                else:
                    r = ledger.answered(client.get(f"{base}/anyapi/v1/batches/{rng.choice(known)}", headers=KEY))
                    if r.status_code == 200:
                        ledger.saw(r.json())
            except httpx.HTTPError:
                time.sleep(0.01)  # the server is being killed: nothing was acknowledged


def stored_batches(client: httpx.Client, base: str) -> dict[str, dict[str, Any]]:
    """Every stored batch, read through the list's pages (one request per 100 batches)."""
    found: dict[str, dict[str, Any]] = {}
    after: str | None = None
    while True:
        r = client.get(f"{base}/anyapi/v1/batches", headers=KEY, params={"limit": 100, **({"after": after} if after else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        found.update((batch["id"], batch) for batch in page["data"])
        if not page["has_more"]:
            return found
        after = page["last_id"]


def check(base: str, ledger: Ledger, files: set[str] | None = None) -> int:
    """Every acknowledged write is there, in a state reachable from the last one acknowledged, counters add up;
    ``files``: the acknowledged files to fetch (default all of them)."""
    assert len(ledger.created) == len(set(ledger.created)), "an id was issued twice"
    with httpx.Client(timeout=30.0) as client:
        stored = stored_batches(client, base)
        for batch_id, status in ledger.last.items():
            assert batch_id in stored, f"acknowledged batch {batch_id} lost"
            batch = stored[batch_id]
            assert batch["status"] in reachable(status), f"{batch_id}: {status} was acknowledged, now {batch['status']}"
            assert consistent(batch) and batch["request_counts"]["completed"] >= ledger.completed[batch_id], batch
        for file_id in ledger.files if files is None else files:
            assert client.get(f"{base}/anyapi/v1/files/{file_id}", headers=KEY).status_code == 200, f"acknowledged file {file_id} lost"
    return len(ledger.last)


def test_the_ledger_helpers_know_the_lifecycle() -> None:
    assert reachable("cancelled") == {"cancelled"} and "completed" in reachable("validating")


def test_sigkill_under_load_loses_no_acknowledged_write_and_reuses_no_id(target: str, servers: list[Server]) -> None:
    """On both engines (the ``target`` fixture: a SQLite file, then a database on the real PostgreSQL server)."""
    state = target
    ledger = Ledger()
    rng = random.Random(11)
    port = None
    checked: set[str] = set()
    for round_ in range(10):
        server = Server("--state", state, "--clock-speed", "5", port=port)
        servers.append(server)
        server.start()
        port = server.port
        # what earlier rounds acknowledged survived the SIGKILL: every batch; the files of the last round (all at the end)
        check(server.base, ledger, files=set(ledger.files) - checked)
        checked |= ledger.files
        stop = threading.Event()
        clients = [threading.Thread(target=load, args=(server.base, ledger, stop, round_ * 100 + i)) for i in range(32)]
        for thread in clients:
            thread.start()
        time.sleep(rng.uniform(0.5, 2.5))
        server.kill()  # SIGKILL at a random moment, requests in flight
        stop.set()
        for thread in clients:
            thread.join(timeout=30)
    final = Server("--state", state, "--clock-speed", "5")
    servers.append(final)
    final.start()
    batches = check(final.base, ledger)
    assert batches >= 20, f"too little load reached the server ({batches} batches)"
    assert ledger.errors == []
    print(f"crash test: 10 SIGKILLs, {len(ledger.created)} ids acknowledged as new, {batches} batches checked after every restart")
    # ids go on after every restart: a new batch never takes an id a client already holds
    _, batch = create(httpx.Client(), final.base)
    assert batch["id"] not in ledger.created


def test_two_workers_on_one_state_file_are_one_fake(tmp_path: Path, servers: list[Server]) -> None:
    server = Server("--state", str(tmp_path / "state.db"), "--workers", "2", "--clock-speed", "0")
    servers.append(server)
    server.start(timeout=120)
    made: list[str] = []
    lock = threading.Lock()

    def work(seed: int) -> None:
        for _ in range(5):
            with httpx.Client(timeout=30.0) as fresh:  # a fresh connection each time: either worker may answer
                _, batch = create(fresh, server.base, 1)
            with lock:
                made.append(batch["id"])
            with httpx.Client(timeout=30.0) as fresh:
                assert fresh.get(f"{server.base}/anyapi/v1/batches/{batch['id']}", headers=KEY).json()["id"] == batch["id"]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(made) == 30 and len(set(made)) == 30
    for batch_id in made:  # 30 reads, each on a fresh connection
        assert httpx.get(f"{server.base}/anyapi/v1/batches/{batch_id}", headers=KEY).status_code == 200
    httpx.post(f"{server.base}/_mock/clock/advance", json={"seconds": 3600})
    nows = {httpx.get(f"{server.base}/_mock/clock").json()["now"] for _ in range(10)}
    assert len(nows) == 1  # one clock, whichever worker answers
    listed = httpx.get(f"{server.base}/anyapi/v1/batches", headers=KEY, params={"limit": 100}).json()["data"]
    assert sorted(b["id"] for b in listed) == sorted(made) and {b["status"] for b in listed} == {"completed"}


def test_two_servers_on_one_postgresql_agree_on_objects_clock_and_pages(postgres_url: str, servers: list[Server]) -> None:
    a = Server("--state", postgres_url, "--clock-speed", "0")
    b = Server("--state", postgres_url, "--clock-speed", "0")
    servers += [a, b]
    a.start(), b.start()
    made = []
    with httpx.Client(timeout=30.0) as client:
        for i in range(12):
            made.append(create(client, (a if i % 2 else b).base, 1)[1]["id"])
        for batch_id in made:
            assert client.get(f"{a.base}/anyapi/v1/batches/{batch_id}", headers=KEY).json() == client.get(f"{b.base}/anyapi/v1/batches/{batch_id}", headers=KEY).json()
        assert client.post(f"{b.base}/_mock/clock/advance", json={"seconds": 2.5}).status_code == 200
        assert client.get(f"{a.base}/_mock/clock").json() == client.get(f"{b.base}/_mock/clock").json()
        statuses = {client.get(f"{a.base}/anyapi/v1/batches/{i}", headers=KEY).json()["status"] for i in made}
        assert statuses == {"in_progress"}  # validating 1 s, in progress 2 s: the advance through b moved a's batches

        def pages(server: Server) -> list[list[str]]:
            result, after = [], None
            while True:
                params: dict[str, Any] = {"limit": 5, **({"after": after} if after else {})}
                page = client.get(f"{server.base}/anyapi/v1/batches", headers=KEY, params=params).json()
                result.append([item["id"] for item in page["data"]])
                if not page["has_more"]:
                    return result
                after = page["data"][-1]["id"]

        assert pages(a) == pages(b) == [list(reversed(made))[i : i + 5] for i in range(0, 12, 5)]
        cancelled = client.post(f"{a.base}/anyapi/v1/batches/{made[0]}/cancel", headers=KEY).json()
        assert client.get(f"{b.base}/anyapi/v1/batches/{made[0]}", headers=KEY).json()["status"] == cancelled["status"] == "cancelled"

    # concurrent advance, cancel and read of the same batches through both servers: every reader sees each batch
    # only move along legal edges, its counters never going back
    racing = [create(httpx.Client(), a.base, 20)[1]["id"] for _ in range(3)]
    stop = threading.Event()
    problems: list[str] = []

    def reader(server: Server) -> None:
        last: dict[str, tuple[str, int]] = {}
        with httpx.Client(timeout=30.0) as client:
            while not stop.is_set():
                for batch_id in racing:
                    batch = client.get(f"{server.base}/anyapi/v1/batches/{batch_id}", headers=KEY).json()
                    state, done = batch["status"], batch["request_counts"]["completed"]
                    before = last.get(batch_id)
                    if before and (state not in reachable(before[0]) or (state == before[0] and done < before[1])):
                        problems.append(f"{batch_id}: {before} then {(state, done)}")
                    last[batch_id] = (state, done)

    def mover() -> None:
        with httpx.Client(timeout=30.0) as client:
            for step in range(12):
                client.post(f"{(a if step % 2 else b).base}/_mock/clock/advance", json={"seconds": 0.25})
                if step == 6:
                    client.post(f"{b.base}/anyapi/v1/batches/{racing[0]}/cancel", headers=KEY)

    threads = [threading.Thread(target=reader, args=(server,)) for server in (a, b, a, b)]
    for thread in threads:
        thread.start()
    mover()
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert problems == []


def test_serve_on_a_state_file_killed_and_restarted_carries_the_batch_on_to_completed(tmp_path: Path, servers: list[Server], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # `mockserver serve --state ./state.db`, as the README says
    first = Server("--state", "./state.db", "--clock-speed", "0")
    servers.append(first)
    first.start()
    with httpx.Client(timeout=30.0) as client:
        file, batch = create(client, first.base, 3)
        client.post(f"{first.base}/_mock/clock/advance", json={"seconds": 1.5})
        assert client.get(f"{first.base}/anyapi/v1/batches/{batch['id']}", headers=KEY).json()["status"] == "in_progress"
        first.kill()
        again = Server("--state", "./state.db", "--clock-speed", "0", port=first.port)
        servers.append(again)
        again.start()
        assert client.get(f"{again.base}/anyapi/v1/batches/{batch['id']}", headers=KEY).json()["status"] == "in_progress"
        client.post(f"{again.base}/_mock/clock/advance", json={"seconds": 60})
        done = client.get(f"{again.base}/anyapi/v1/batches/{batch['id']}", headers=KEY).json()
        assert done["status"] == "completed" and done["request_counts"] == {"total": 3, "completed": 3, "failed": 0}
        output = client.get(f"{again.base}/anyapi/v1/files/{done['output_file_id']}/content", headers=KEY)
        assert [json.loads(line)["custom_id"] for line in output.text.splitlines()] == ["r0", "r1", "r2"]
        assert client.get(f"{again.base}/anyapi/v1/files/{file['id']}/content", headers=KEY).content == jsonl(3)
