"""The durable path side by side (issue 23): memory, SQLite and PostgreSQL, one worker and ``--workers 2``, each as
a ratio of a bare Starlette app measured in the same run, plus the acknowledged-write latency under 32 clients.

    .venv/bin/python benchmarks/state_bench.py [--rounds 3] [--seconds 3] [--postgres postgresql://...]

``make bench`` runs this as part of ``benchmarks/bench.py``. Every server is a real process on 127.0.0.1: the fake
is ``mockserver serve`` (its defaults: every request validated, every response checked, access log off); the bare
app is the same JSON objects served by Starlette on uvicorn (uvloop, httptools), with as many workers. The load is
wrk (``-t1 -c32``); the rounds are interleaved (every server once per round, in turn) and medians are printed.
PostgreSQL is started as the tests start it (``tests/core/state/conftest.py``: a throwaway cluster in a temporary
directory on loopback); without its binaries the PostgreSQL rows are skipped with the reason. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mockserver.server.live import free_port

LINE = b'{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}}\n'
KEY, LIST_KEY = "sk-bench", "sk-bench-list"
OPS = ("GET", "create", "list 100")

BARE = textwrap.dedent(
    """
    import json, os
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    ANSWERS = json.load(open(os.environ["BARE_ANSWERS"]))

    async def get(request):
        return JSONResponse(ANSWERS["get"])

    async def listed(request):
        return JSONResponse(ANSWERS["list"])

    async def create(request):
        await request.json()
        return JSONResponse(ANSWERS["create"])

    app = Starlette(routes=[Route("/anyapi/v1/batches/{id}", get), Route("/anyapi/v1/batches", listed),
                            Route("/anyapi/v1/batches", create, methods=["POST"])])
    """
)


# -- servers --------------------------------------------------------------------------------------------------


class Process:
    """One server process (its own session: stopping it stops its workers)."""

    def __init__(self, name: str, workers: int, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.name, self.workers = name, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [arg.replace("{port}", str(self.port)) for arg in argv]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                     env={**os.environ, **(env or {})})
        self.batch_id = "batch_x"
        self.create_body = b"{}"

    def wait(self, path: str) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: the server exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + path, timeout=1, headers={"Authorization": f"Bearer {KEY}"}).status_code < 500:
                    time.sleep(0.5 if self.workers > 1 else 0.1)  # every worker up
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: the server did not answer")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)


def fake(name: str, workers: int, state: str | None, python: str = sys.executable) -> Process:
    argv = [python, "-m", "mockserver", "serve", "--host", "127.0.0.1", "--port", "{port}", "--log-level", "critical",
            "--clock-speed", "0", *(["--state", state] if state else []), *(["--workers", str(workers)] if workers > 1 else [])]
    server = Process(name, workers, argv)
    try:
        return _seed(server)
    except BaseException:
        server.stop()  # a server that could not be set up is not left running
        raise


def _seed(server: Process) -> Process:
    server.wait("/_mock/health")
    auth = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=server.url, timeout=60) as client:
        file_id = client.post("/anyapi/v1/files", headers=auth, data={"purpose": "batch"}, files={"file": ("in.jsonl", LINE)}).json()["id"]
        server.create_body = json.dumps({"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}).encode()
        server.batch_id = client.post("/anyapi/v1/batches", headers={**auth, "Content-Type": "application/json"}, content=server.create_body).json()["id"]
        listed = {"Authorization": f"Bearer {LIST_KEY}"}
        list_file = client.post("/anyapi/v1/files", headers=listed, data={"purpose": "batch"}, files={"file": ("in.jsonl", LINE)}).json()["id"]
        body = {"input_file_id": list_file, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        for _ in range(100):
            client.post("/anyapi/v1/batches", headers=listed, json=body).raise_for_status()
        client.post("/_mock/clock/advance", json={"seconds": 60}).raise_for_status()
    return server


def answers(server: Process) -> dict[str, Any]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        return {"get": client.get(f"/anyapi/v1/batches/{server.batch_id}", headers={"Authorization": f"Bearer {KEY}"}).json(),
                "create": client.get(f"/anyapi/v1/batches/{server.batch_id}", headers={"Authorization": f"Bearer {KEY}"}).json(),
                "list": client.get("/anyapi/v1/batches?limit=100", headers={"Authorization": f"Bearer {LIST_KEY}"}).json()}


def bare(workers: int, work: Path) -> Process:
    argv = [sys.executable, "-m", "uvicorn", "--app-dir", str(work), "bare:app", "--host", "127.0.0.1", "--port", "{port}",
            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "critical", "--workers", str(workers)]
    server = Process(f"bare Starlette, {workers} worker{'s' * (workers > 1)}", workers, argv, {"BARE_ANSWERS": str(work / "answers.json")})
    try:
        server.wait("/anyapi/v1/batches/x")
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def postgres() -> Iterator[tuple[str | None, str]]:
    """A throwaway PostgreSQL cluster started exactly as the tests start theirs: (its URL or None, why not)."""
    from tests.core.state.conftest import Postgres, _pg_bin

    bindir = _pg_bin()
    if bindir is None:
        yield None, "no PostgreSQL binaries (initdb) on this machine"
        return
    try:
        server = Postgres(bindir)
    except BaseException as exc:  # pytest.skip outside pytest: running as root with no postgres user
        yield None, str(exc)
        return
    try:
        server.start()
        yield server.url(), ""
    finally:
        server.stop()


# -- load -----------------------------------------------------------------------------------------------------


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, seconds: float, key: str, method: str = "GET", body: bytes | None = None, connections: int = 32) -> dict[str, float]:
    script = f'wrk.method = "{method}"\nwrk.headers["Authorization"] = "Bearer {key}"\n'
    if body is not None:
        script += f'wrk.headers["Content-Type"] = "application/json"\nwrk.body = {json.dumps(body.decode())}\n'
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", handle.name, url],
                             capture_output=True, text=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(handle.name)
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise RuntimeError(f"wrk gave no figures for {url}:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(found.group(1)), "p50": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
            "p99": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)), "errors": float(errors.group(1)) if errors else 0.0}  # type: ignore[union-attr]


def run(server: Process, op: str, seconds: float) -> dict[str, float]:
    if op == "GET":
        return wrk(f"{server.url}/anyapi/v1/batches/{server.batch_id}", seconds, KEY)
    if op == "create":
        return wrk(f"{server.url}/anyapi/v1/batches", seconds, KEY, "POST", server.create_body)
    return wrk(f"{server.url}/anyapi/v1/batches?limit=100", seconds, LIST_KEY)


# -- the comparison -------------------------------------------------------------------------------------------


def compare(rounds: int, seconds: float, postgres_url: str | None = None, verbose: bool = True, before: str | None = None) -> dict[str, Any]:
    """Every server started, then ``rounds`` interleaved rounds of every operation on every server (after one
    short warm-up run each). Returns {"rows": {name: {op: medians}}, "skipped": reason or ""}. ``before``: the
    Python of another checkout (its own venv) whose fakes are measured too, as rows named "... (before)"."""
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    work = Path(tempfile.mkdtemp(prefix="bench-state-"))
    (work / "bare.py").write_text(BARE)
    servers: list[Process] = []
    skipped = ""
    try:
        with ExitStack() as stack:
            if postgres_url is None:
                postgres_url, skipped = stack.enter_context(postgres())
            for python, suffix in [(sys.executable, "")] + ([(before, " (before)")] if before else []):
                for name, workers, state in [("memory", 1, None), ("SQLite, 1 worker", 1, str(work / f"one{suffix}.db")),
                                             ("SQLite, 2 workers", 2, str(work / f"two{suffix}.db"))]:
                    servers.append(fake(name + suffix, workers, state, python))
                if postgres_url:
                    import psycopg

                    for name, workers in (("PostgreSQL, 1 worker", 1), ("PostgreSQL, 2 workers", 2)):
                        database = "b_" + os.urandom(6).hex()
                        with psycopg.connect(postgres_url, autocommit=True) as conn:
                            conn.execute(f"CREATE DATABASE {database}")
                        servers.append(fake(name + suffix, workers, postgres_url.rsplit("/", 1)[0] + "/" + database, python))
            (work / "answers.json").write_text(json.dumps(answers(servers[0])))
            servers[:0] = [bare(1, work), bare(2, work)]
            runs: dict[str, dict[str, list[dict[str, float]]]] = {s.name: {op: [] for op in OPS} for s in servers}
            for op in OPS:
                for server in servers:
                    run(server, op, min(1.0, seconds))  # warm-up, not kept
            for round_ in range(rounds):
                for op in OPS:
                    for server in servers:
                        runs[server.name][op].append(run(server, op, seconds))
                if verbose:
                    print(f"  engines: round {round_ + 1} of {rounds} done", flush=True)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    rows: dict[str, dict[str, dict[str, float]]] = {}
    for name, by_op in runs.items():
        rows[name] = {op: {k: statistics.median(r[k] for r in results) for k in ("rps", "p50", "p99", "errors")}
                      for op, results in by_op.items()}
    return {"rows": rows, "skipped": skipped, "workers": {s.name: s.workers for s in servers}}


def ratio(result: dict[str, Any], name: str, op: str, base: str) -> float:
    rows = result["rows"]
    return float(rows[name][op]["rps"] / rows[base][op]["rps"])


def bare_of(result: dict[str, Any], name: str) -> str:
    return "bare Starlette, 2 workers" if result["workers"][name] > 1 else "bare Starlette, 1 worker"


def memory_of(name: str) -> str:
    return "memory (before)" if name.endswith("(before)") else "memory"


def table(result: dict[str, Any]) -> str:
    """The table printed by ``make bench``: req/s and × bare Starlette (with as many workers) per operation, the
    create p50/p99 (the acknowledged-write latency under 32 clients), and × memory."""
    rows = result["rows"]
    lines = [f"{'server':24s} {'GET/s':>8s} {'x bare':>6s} {'x mem':>6s} {'create/s':>9s} {'x bare':>6s} {'x mem':>6s} "
             f"{'list/s':>7s} {'x bare':>6s} {'x mem':>6s}  create p50 / p99 (32 clients)"]
    for name, by_op in rows.items():
        cells = []
        for op in OPS:
            rps = by_op[op]["rps"]
            is_bare = name.startswith("bare")
            cells.append(f"{rps:{9 if op == 'create' else 8 if op == 'GET' else 7},.0f} "
                         f"{'' if is_bare else f'{ratio(result, name, op, bare_of(result, name)):.2f}':>6s} "
                         f"{'' if is_bare else f'{ratio(result, name, op, memory_of(name)):.2f}':>6s}")
        errors = sum(by_op[op]["errors"] for op in OPS)
        lines.append(f"{name:24s} " + " ".join(cells) + f"  {by_op['create']['p50']:6.2f} / {by_op['create']['p99']:7.2f} ms"
                     + (f"  ({errors:.0f} non-2xx)" if errors else ""))
    if result["skipped"]:
        lines.append(f"PostgreSQL: skipped ({result['skipped']})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--postgres", help="a postgresql:// URL whose server may be given new databases; default: start one")
    parser.add_argument("--before", help="the Python of another checkout's venv: its fakes measured too, side by side")
    args = parser.parse_args()
    result = compare(args.rounds, args.seconds, args.postgres, before=args.before)
    print(table(result))


if __name__ == "__main__":
    main()
