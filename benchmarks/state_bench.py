"""Throughput of the state engines (issue 11), as ratios to a bare Starlette app measured in the same run.

    .venv/bin/python benchmarks/state_bench.py [--seconds 3] [--clients 8] [--postgres postgresql://...]

Every server is a real `mockserver serve` process (uvicorn) on 127.0.0.1; the load is N threads with one
keep-alive connection each and a minimal HTTP/1.1 client (so the client costs little next to the server).
Figures: GET one batch, and create a batch (POST, a write transaction). Without --postgres a temporary
PostgreSQL is started from the distribution's binaries if they exist (else that row is skipped). Not a test.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

KEY = "Bearer sk-bench"
LINE = b'{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[]}}\n'

BARE = textwrap.dedent(
    """
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    BATCH = {"id": "batch_x", "object": "batch", "status": "in_progress", "request_counts": {"total": 1, "completed": 0, "failed": 0}}

    async def get(request):
        return JSONResponse(BATCH)

    async def post(request):
        await request.body()
        return JSONResponse(BATCH)

    app = Starlette(routes=[Route("/anyapi/v1/batches/{id}", get), Route("/anyapi/v1/batches", post, methods=["POST"])])
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(sock: socket.socket, raw: bytes, buffer: bytearray) -> int:
    sock.sendall(raw)
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        rest += chunk
    buffer[:] = rest[length:]
    return status


def load(port: int, raw: bytes, seconds: float, clients: int) -> float:
    counts = [0] * clients
    failures = [0] * clients
    deadline = time.perf_counter() + seconds

    def run(index: int) -> None:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buffer = bytearray()
            while time.perf_counter() < deadline:
                if request(sock, raw, buffer) < 400:
                    counts[index] += 1
                else:
                    failures[index] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if sum(failures):
        print(f"    ({sum(failures)} error answers not counted)")
    return sum(counts) / (time.perf_counter() - start)


def http(method: str, path: str, body: bytes = b"", content_type: str = "application/json") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {KEY}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def one(port: int, raw: bytes) -> dict[str, object]:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(raw)
        data = b""
        while True:
            chunk = sock.recv(65536)
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = next((int(h.split(b":", 1)[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")), None)
            if length is not None and len(body) >= length:
                return dict(json.loads(body[:length]))


def wait(port: int, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def measure(name: str, argv: list[str], seconds: float, clients: int, bare: bool = False) -> tuple[float, float]:
    port = free_port()
    if bare:
        command = [sys.executable, "-m", "uvicorn", "--app-dir", argv[0], "bare:app", "--port", str(port), "--log-level", "critical"]
    else:
        command = [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--log-level", "critical", "--clock-speed", "0", *argv]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait(port, process)
        time.sleep(1.0 if "--workers" in argv else 0.2)
        boundary = "b0undary"
        form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jsonl\"\r\n\r\n").encode() + LINE + f"\r\n--{boundary}--\r\n".encode()
        if bare:
            batch_id, file_id = "batch_x", "file_x"
        else:
            file_id = str(one(port, http("POST", "/anyapi/v1/files", form, f"multipart/form-data; boundary={boundary}"))["id"])
        create = http("POST", "/anyapi/v1/batches", json.dumps({"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}).encode())
        if not bare:
            batch_id = str(one(port, create)["id"])
        get = http("GET", f"/anyapi/v1/batches/{batch_id}")
        reads = load(port, get, seconds, clients)
        writes = load(port, create, seconds, clients)
        return reads, writes
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def start_postgres(root: Path) -> tuple[str, list[str]] | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or ([shutil.which("initdb")] if shutil.which("initdb") else [])
    if not found:
        return None
    bindir = Path(str(found[-1])).parent
    port = free_port()
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if prefix:
        shutil.chown(root, "postgres", "postgres")
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(root / "data"), "-U", "postgres", "--auth=trust", "--no-sync"], check=True, capture_output=True)
    options = f"-h 127.0.0.1 -p {port} -k {root} -c max_connections=200"
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(root / "data"), "-o", options, "-l", str(root / "log"), "-w", "start"], check=True, capture_output=True)
    stop = [*prefix, str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "fast", "-w", "stop"]
    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--postgres", help="a postgresql:// URL to use (its mock_* tables are replaced); default: start one")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="state-bench-"))
    (work / "bare.py").write_text(BARE)
    stop: list[str] | None = None
    postgres = args.postgres
    if postgres is None:
        pg_root = Path(tempfile.mkdtemp(prefix="state-bench-pg-"))  # its own directory: the postgres user must enter it
        started = start_postgres(pg_root)
        postgres, stop = started if started else (None, None)
    rows: list[tuple[str, list[str], bool]] = [
        ("bare Starlette", [str(work)], True),
        ("memory", [], False),
        ("SQLite, 1 worker", ["--state", str(work / "one.db")], False),
        ("SQLite, 2 workers", ["--state", str(work / "two.db"), "--workers", "2"], False),
    ]
    if postgres:
        rows.append(("PostgreSQL, 1 worker", ["--state", postgres], False))
    try:
        results = {}
        for name, argv, bare in rows:
            results[name] = measure(name, argv, args.seconds, args.clients, bare)
            print(f"  measured {name}: GET {results[name][0]:,.0f}/s, create {results[name][1]:,.0f}/s", flush=True)
    finally:
        if stop:
            subprocess.run(stop, capture_output=True)
            shutil.rmtree(pg_root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    base_get, base_create = results["bare Starlette"]
    print(f"\n{'server':22s} {'GET batch/s':>12s} {'x bare':>7s} {'create/s':>10s} {'x bare':>7s}   ({args.clients} clients, {args.seconds:g} s each, {os.cpu_count()} CPUs)")
    for name, (get, create) in results.items():
        print(f"{name:22s} {get:12,.0f} {get / base_get:7.2f} {create:10,.0f} {create / base_create:7.2f}")
    if not postgres:
        print("PostgreSQL: skipped (no binaries; give --postgres URL)")


if __name__ == "__main__":
    main()
