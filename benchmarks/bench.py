"""Speed and memory of the fake, side by side with a bare Starlette app on the same server stack.

Not a test: nothing here asserts; it prints figures (medians of interleaved rounds) and the targets of issues 10
and 23, each met or not. The durable path (memory, SQLite, PostgreSQL; 1 and 2 workers) is ``state_bench.py``.

    .venv/bin/python benchmarks/bench.py [--rounds 3] [--seconds 3] [--million 1000000] [--lines 50000] [--csv-rows 1000000]

Load: wrk (``apt-get install -y wrk``) if it is on PATH, else a bounded Python load generator (threads,
keep-alive; it saturates sooner, so ratios are compressed). Every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import state_bench
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.core.engine import Engine
from mockserver.core.settings import Settings
from mockserver.providers.openai_family.models import OpenAIBatchBackend
from mockserver.server.app import create_app
from mockserver.server.live import free_port

LOOP = "uvloop"
AUTH = {"Authorization": "Bearer k"}
LINE = b'{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}}\n'


# -- servers ------------------------------------------------------------------------------------------


class Served:
    """An ASGI app on uvicorn with uvloop + httptools, access log off, in a thread of this process."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, loop=LOOP, http="httptools",
                                access_log=False, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class ServedCLI:
    """``mockserver serve`` in a child process (the shipped front door), clock frozen: for the flows, so the
    client's work does not share the server's interpreter."""

    def __init__(self, config: str | None = None) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.config = config  # YAML settings (the CSV case raises FormantAI's upload limits)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServedCLI:
        self.proc = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                                      "--clock-speed", "0", "--log-level", "warning", *(["--config", self.config] if self.config else [])],
                                     stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("mockserver serve did not start")

    def cpu(self) -> float:
        """CPU seconds the server process has used so far (Linux /proc; NaN elsewhere)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()  # type: ignore[union-attr]
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return float("nan")

    def __exit__(self, *exc: Any) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(timeout=20)


def bare_app(answers: dict[str, Any]) -> Starlette:
    """A bare Starlette app answering the same JSON objects the fake answered (serialised per request)."""

    async def get_batch(request: Request) -> Response:
        return JSONResponse(answers["get"])

    async def create_batch(request: Request) -> Response:
        await request.json()
        return JSONResponse(answers["create"])

    async def list_batches(request: Request) -> Response:
        return JSONResponse(answers["list"])

    async def clock(request: Request) -> Response:
        return JSONResponse(answers["clock"])

    return Starlette(routes=[
        Route("/batches/{batch_id}", get_batch), Route("/batches", create_batch, methods=["POST"]),
        Route("/list", list_batches), Route("/clock", clock),
    ])


# -- load -------------------------------------------------------------------------------------------


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, seconds: float, method: str = "GET", body: bytes | None = None, connections: int = 32) -> dict[str, float]:
    script = f'wrk.method = "{method}"\nwrk.headers["Authorization"] = "Bearer k"\n'
    if body is not None:
        script += f'wrk.headers["Content-Type"] = "application/json"\nwrk.body = {json.dumps(body.decode())}\n'
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", handle.name, url],
                             capture_output=True, text=True, timeout=seconds + 30).stdout
    finally:
        os.unlink(handle.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": p50, "p99": p99, "errors": float(errors.group(1)) if errors else 0.0}


def pyload(url: str, seconds: float, method: str = "GET", body: bytes | None = None, connections: int = 8) -> dict[str, float]:
    """Bounded fallback: ``connections`` threads, keep-alive, for ``seconds``."""
    host, port, path = re.match(r"http://([^:/]+):(\d+)(.*)", url).groups()  # type: ignore[union-attr]
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        headers = {**AUTH, "Content-Type": "application/json"}
        for _ in range(1_000_000):
            if time.monotonic() >= stop:
                break
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            answer.read()
            latencies.append((time.perf_counter() - start) * 1000)
            errors[0] += answer.status >= 400
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 30)
    latencies.sort()
    return {"rps": len(latencies) / seconds, "p50": latencies[len(latencies) // 2], "p99": latencies[int(len(latencies) * 0.99)], "errors": float(errors[0])}


def load(url: str, seconds: float, method: str = "GET", body: bytes | None = None) -> dict[str, float]:
    return wrk(url, seconds, method, body) if shutil.which("wrk") else pyload(url, seconds, method, body)


# -- HTTP: the fake against bare Starlette ---------------------------------------------------------------


def http_compare(rounds: int, seconds: float) -> dict[str, dict[str, float]]:
    settings = Settings(clock_speed=0)  # response validation: the default (warn), request validation always on
    app = create_app(settings)
    engine: Engine = app.state.engine
    results: dict[str, dict[str, float]] = {}
    with Served(app) as fake, httpx.Client(base_url=fake.url, headers=AUTH, timeout=30) as client:
        file_id = client.post("/anyapi/v1/files", data={"purpose": "batch"}, files={"file": ("in.jsonl", LINE)}).json()["id"]
        create_body = json.dumps({"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}).encode()
        batch = client.post("/anyapi/v1/batches", content=create_body, headers={"content-type": "application/json"}).json()
        engine.clock.advance(60)
        for key, count in (("k3", 1_000), ("k5", 100_000)):  # list fixtures, created in-process (same code as the verb)
            backend = engine.backend("anyapi", key)
            source = backend.create_file("in.jsonl", "batch", LINE).id
            for _ in range(count):
                backend.create_batch(source, "/v1/chat/completions", "24h")
        engine.clock.advance(60)
        answers = {
            "get": client.get(f"/anyapi/v1/batches/{batch['id']}").json(),
            "create": batch,
            "list": client.get("/anyapi/v1/batches?limit=100", headers={"Authorization": "Bearer k3"}).json(),
            "clock": client.get("/_mock/clock").json(),
        }
        with Served(bare_app(answers)) as bare:
            cases: list[tuple[str, str, str, str, bytes | None]] = [  # GET and create: state_bench (servers in processes)
                ("list 100, 10^3 stored", f"{fake.url}/anyapi/v1/batches?limit=100&k=3", f"{bare.url}/list", "GET", None),
                ("list 100, 10^5 stored", f"{fake.url}/anyapi/v1/batches?limit=100&k=5", f"{bare.url}/list", "GET", None),
                ("admin clock", f"{fake.url}/_mock/clock", f"{bare.url}/clock", "GET", None),
            ]
            for name, fake_url, bare_url, method, body in cases:
                if "10^3" in name or "10^5" in name:  # the key picks the namespace: wrk sends one header, so a query marks it
                    key = "k3" if "10^3" in name else "k5"
                    fake_url = fake_url.replace(f"&k={key[-1]}", "")
                    runs = _rounds(rounds, seconds, lambda: _with_key(load, fake_url, seconds, key), lambda: load(bare_url, seconds, method, body))
                else:
                    runs = _rounds(rounds, seconds, lambda: load(fake_url, seconds, method, body), lambda: load(bare_url, seconds, method, body))
                results[name] = runs
                _print_http(name, runs)
    return results


def _with_key(run: Callable[..., dict[str, float]], url: str, seconds: float, key: str) -> dict[str, float]:
    if shutil.which("wrk"):
        script = f'wrk.headers["Authorization"] = "Bearer {key}"\n'
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
            handle.write(script)
        try:
            out = subprocess.run(["wrk", "-t1", "-c32", f"-d{seconds:g}s", "--latency", "-s", handle.name, url],
                                 capture_output=True, text=True, timeout=seconds + 30).stdout
        finally:
            os.unlink(handle.name)
        return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
                "p50": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
                "p99": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)), "errors": 0.0}  # type: ignore[union-attr]
    global AUTH
    saved, AUTH = AUTH, {"Authorization": f"Bearer {key}"}
    try:
        return pyload(url, seconds)
    finally:
        AUTH = saved


def _rounds(rounds: int, seconds: float, fake: Callable[[], dict[str, float]], bare: Callable[[], dict[str, float]]) -> dict[str, float]:
    fakes, bares = [], []
    fake()  # warm-up (short runs are not kept)
    bare()
    for _ in range(rounds):
        fakes.append(fake())
        bares.append(bare())
    med = lambda runs, key: statistics.median(r[key] for r in runs)  # noqa: E731
    out = {f"fake_{k}": med(fakes, k) for k in ("rps", "p50", "p99", "errors")}
    out |= {f"bare_{k}": med(bares, k) for k in ("rps", "p50", "p99")}
    out["ratio"] = statistics.median(f["rps"] / b["rps"] for f, b in zip(fakes, bares))
    return out


def _print_http(name: str, r: dict[str, float]) -> None:
    print(f"{name:24s} fake {r['fake_rps']:8,.0f} req/s p50 {r['fake_p50']:6.2f} ms p99 {r['fake_p99']:6.2f} ms | "
          f"bare {r['bare_rps']:8,.0f} req/s p50 {r['bare_p50']:6.2f} ms p99 {r['bare_p99']:6.2f} ms | {r['ratio']:.2f}x"
          + (f"  ({r['fake_errors']:.0f} non-2xx)" if r["fake_errors"] else ""), flush=True)


# -- memory and scale, in-process -------------------------------------------------------------------------


def idle_bytes(count: int) -> float:
    engine = Engine(Settings(), {"x": lambda e: OpenAIBatchBackend(e)})
    backend = engine.backend("x", "k")
    file_id = backend.create_file("in.jsonl", "batch", LINE).id
    backend.create_batch(file_id, "/v1/chat/completions", "24h")
    gc.collect()
    tracemalloc.start()
    for _ in range(count):
        backend.create_batch(file_id, "/v1/chat/completions", "24h")
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return current / count


def million_child(count: int) -> None:
    """Run in a fresh process: create ``count`` batches, print seconds and peak RSS (MiB) as JSON."""
    import resource

    engine = Engine(Settings(), {"x": lambda e: OpenAIBatchBackend(e)})
    backend = engine.backend("x", "k")
    file_id = backend.create_file("in.jsonl", "batch", LINE).id
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        backend.create_batch(file_id, "/v1/chat/completions", "24h")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "peak_mib": peak, "base_mib": base}))


def million(count: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child-million", str(count)], capture_output=True, text=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# -- flows through real clients ---------------------------------------------------------------------------


def sdk_round_trip(lines: int) -> dict[str, float]:
    from openai import OpenAI

    content = "".join(
        json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions",
                    "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Question number {i}"}]}}) + "\n"
        for i in range(lines)
    ).encode()
    with ServedCLI() as fake:
        client = OpenAI(base_url=f"{fake.url}/anyapi/v1", api_key="k", max_retries=0, timeout=120)
        start, cpu, server_cpu = time.perf_counter(), time.process_time(), fake.cpu()
        file = client.files.create(file=("in.jsonl", content), purpose="batch")
        t_upload = time.perf_counter()
        batch = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
        t_create = time.perf_counter()
        httpx.post(f"{fake.url}/_mock/clock/advance", json={"seconds": 60}, timeout=30)
        batch = client.batches.retrieve(batch.id)
        t_done = time.perf_counter()
        output = client.files.content(batch.output_file_id).read()
        end, cpu, server_cpu = time.perf_counter(), time.process_time() - cpu, fake.cpu() - server_cpu
    return {"status_completed": float(batch.status == "completed"), "input_mib": len(content) / 2**20, "output_mib": len(output) / 2**20,
            "upload": t_upload - start, "create": t_create - t_upload, "complete": t_done - t_create, "download": end - t_done, "total": end - start, "cpu": cpu, "server_cpu": server_cpu}


def get_during_csv(rows: int) -> dict[str, float]:
    csv = ("customer_phone,name\n" + "".join(f"+1415555{i % 10_000:04d},Caller {i}\n" for i in range(rows))).encode()
    latencies: list[float] = []
    # the defaults refuse a CSV over 10 MiB or 10,000 rows (413): this case raises them to fit the CSV
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(f"limits:\n  max_csv_bytes: {len(csv) + 1024}\n  max_csv_rows: {rows}\n")
    try:
        return _get_during_csv(csv, rows, handle.name, latencies)
    finally:
        os.unlink(handle.name)


def _get_during_csv(csv: bytes, rows: int, config: str, latencies: list[float]) -> dict[str, float]:
    with ServedCLI(config) as fake, httpx.Client(base_url=fake.url, headers=AUTH, timeout=30) as client:
        file_id = client.post("/anyapi/v1/files", data={"purpose": "batch"}, files={"file": ("in.jsonl", LINE)}).json()["id"]
        body = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        batch_id = client.post("/anyapi/v1/batches", json=body).json()["id"]
        outcome: dict[str, Any] = {}

        def upload() -> None:
            start = time.perf_counter()
            with httpx.Client(timeout=600) as uploader:
                answer = uploader.post(f"{fake.url}/formant/v1/batch-call", headers=AUTH, data={"agent_id": "1", "name": "load"},
                                       files={"file": ("calls.csv", csv, "text/csv")})
            outcome["status"], outcome["seconds"] = answer.status_code, time.perf_counter() - start

        thread = threading.Thread(target=upload)
        thread.start()
        deadline = time.monotonic() + 600
        while thread.is_alive() and time.monotonic() < deadline:
            start = time.perf_counter()
            client.get(f"/anyapi/v1/batches/{batch_id}")
            latencies.append((time.perf_counter() - start) * 1000)
            time.sleep(0.02)
        thread.join(timeout=60)
    latencies.sort()
    return {"rows": rows, "csv_mib": len(csv) / 2**20, "upload_status": outcome.get("status", 0), "upload_seconds": outcome.get("seconds", float("nan")),
            "gets": len(latencies), "get_p50_ms": latencies[len(latencies) // 2] if latencies else float("nan"),
            "get_max_ms": latencies[-1] if latencies else float("nan"), "get_p99_ms": latencies[int(len(latencies) * 0.99)] if latencies else float("nan")}


# -- report -----------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def engine_targets(engines: dict[str, Any]) -> list[str]:
    """Issue 23's ratio targets, from the engines table of this run."""
    one, mem = "bare Starlette, 1 worker", "memory"
    r = lambda name, op, base: state_bench.ratio(engines, name, op, base)  # noqa: E731
    lines = [f"  memory GET >= 0.7x bare:              {r(mem, 'GET', one):.2f}x  {verdict(r(mem, 'GET', one) >= 0.7)}",
             f"  memory create >= 0.5x bare:           {r(mem, 'create', one):.2f}x  {verdict(r(mem, 'create', one) >= 0.5)}"]
    for engine, reads, writes in (("SQLite", 0.5, 0.3), ("PostgreSQL", 0.3, None)):
        for name in [n for n in engines["rows"] if n.startswith(engine)]:
            got = min(r(name, "GET", mem), r(name, "list 100", mem))
            lines.append(f"  {name + ' reads >= ' + f'{reads}x memory:':37s} {got:.2f}x (GET {r(name, 'GET', mem):.2f}, list {r(name, 'list 100', mem):.2f})  {verdict(got >= reads)}")
            if writes is not None:
                got = r(name, "create", mem)
                lines.append(f"  {name + ' writes >= ' + f'{writes}x memory:':37s} {got:.2f}x  {verdict(got >= writes)}")
    if engines["skipped"]:
        lines.append(f"  PostgreSQL reads >= 0.3x memory:      not measured ({engines['skipped']})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="interleaved fake/bare rounds per case (medians are printed)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per load run")
    parser.add_argument("--idle", type=int, default=100_000, help="batches measured for bytes per idle batch")
    parser.add_argument("--million", type=int, default=1_000_000, help="batches created in a fresh process")
    parser.add_argument("--lines", type=int, default=50_000, help="lines of the SDK round trip")
    parser.add_argument("--trips", type=int, default=3, help="round trips, each on a fresh server (the median is printed)")
    parser.add_argument("--csv-rows", type=int, default=1_000_000, help="rows of the FormantAI CSV uploaded during GETs")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--http-only", action="store_true")
    parser.add_argument("--skip-engines", action="store_true", help="skip the memory/SQLite/PostgreSQL table")
    parser.add_argument("--postgres", help="a postgresql:// URL for the PostgreSQL rows (default: start a throwaway cluster)")
    parser.add_argument("--child-million", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_million:
        million_child(args.child_million)
        return
    print(f"mockserver benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"load: {'wrk -t1 -c32' if shutil.which('wrk') else 'Python threads (wrk not found)'}", flush=True)
    engines = None
    if not (args.skip_http or args.skip_engines):
        if shutil.which("wrk"):
            engines = state_bench.compare(args.rounds, args.seconds, args.postgres)
            print(state_bench.table(engines), flush=True)
        else:
            print("engines table (memory, SQLite, PostgreSQL): skipped, wrk is not installed (apt-get install -y wrk)", flush=True)
    http = {} if args.skip_http else http_compare(args.rounds, args.seconds)
    if args.http_only:
        return
    per = idle_bytes(args.idle)
    print(f"bytes per idle batch     {per:,.0f} B (tracemalloc over {args.idle:,} batches)", flush=True)
    big = million(args.million)
    print(f"{args.million:,} batches in-process {big['seconds']:.1f} s ({big['cpu_seconds']:.1f} s CPU), peak RSS {big['peak_mib']:,.0f} MiB (process at start {big['base_mib']:,.0f} MiB)", flush=True)
    trips = sorted((sdk_round_trip(args.lines) for _ in range(max(1, args.trips))), key=lambda t: t["total"])
    trip = trips[len(trips) // 2]  # the median run (a fresh server each), its parts below
    runs = ", ".join(f"{t['total']:.2f}" for t in trips)
    print(f"{args.lines:,}-line round trip (openai SDK), median of {len(trips)} ({runs} s)  {trip['total']:.2f} s: upload {trip['upload']:.2f}, create {trip['create']:.2f}, "
          f"advance + retrieve {trip['complete']:.2f}, download {trip['download']:.2f} ({trip['output_mib']:.0f} MiB); "
          f"CPU: server {trip['server_cpu']:.2f} s, client {trip['cpu']:.2f} s", flush=True)
    csv = get_during_csv(args.csv_rows)
    print(f"GET during a {args.csv_rows:,}-row CSV upload ({csv['csv_mib']:.0f} MiB, answered {csv['upload_status']:.0f} in {csv['upload_seconds']:.1f} s): "
          f"{csv['gets']:.0f} GETs, p50 {csv['get_p50_ms']:.1f} ms, p99 {csv['get_p99_ms']:.1f} ms, max {csv['get_max_ms']:.1f} ms", flush=True)
    print("\ntargets (issues 10 and 23):")
    if engines is not None:
        for line in engine_targets(engines):
            print(line)
    elif not args.skip_http:
        print("  memory, SQLite and PostgreSQL ratios (issue 23): not measured (no engines table in this run)")
    if http:
        flat = http['list 100, 10^5 stored']['fake_p99'] / http['list 100, 10^3 stored']['fake_p99']
        print(f"  list p99 at 10^5 <= 1.5x p99 at 10^3:  {flat:.2f}x  {verdict(flat <= 1.5)}")
    print(f"  <= 800 B per idle batch:              {per:,.0f} B  {verdict(per <= 800)}")
    print(f"  10^6 batches <= 15 s and <= 1 GiB:    {big['seconds']:.1f} s, {big['peak_mib']:,.0f} MiB  {verdict(big['seconds'] <= 15 and big['peak_mib'] <= 1024)}")
    print(f"  50,000-line round trip <= 1 s:        {trip['total']:.2f} s  {verdict(trip['total'] <= 1.0)}")
    print(f"  GET during the CSV upload <= 100 ms:  max {csv['get_max_ms']:.0f} ms  {verdict(csv['upload_status'] == 200 and csv['get_max_ms'] <= 100)}"
          + ("" if csv["upload_status"] == 200 else f" (the upload was answered {csv['upload_status']:.0f})"))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
