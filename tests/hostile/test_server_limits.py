"""The server process under hostile clients (issue 12): header, body and keep-alive timeouts on real sockets,
a bounded graceful shutdown, memory on a 1 GB upload, and a small GET while the largest allowed uploads are
processed. Timing assertions are generous bounds (the figures measured are printed: run with -s to see them)."""

from __future__ import annotations

import json
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.conftest import jsonl
from tests.hostile.serverproc import ServerProcess, serve

MiB = 1024 * 1024


def _closed_after(sock: Any, limit: float) -> float:
    """Seconds until the server closes ``sock`` (fails if it is still open after ``limit``)."""
    started = time.monotonic()
    sock.settimeout(limit)
    while True:
        data = sock.recv(65536)
        if not data:
            return time.monotonic() - started


def test_header_timeout_closes_a_connection_that_never_finishes_its_headers() -> None:
    with serve("--header-timeout", "0.5") as server:
        idle = server.connect()
        assert _closed_after(idle, 5) < 3
        trickle = server.connect()
        started = time.monotonic()
        try:  # one byte every 100 ms: each byte would reset a keep-alive timer, not this one
            for _ in range(50):
                trickle.sendall(b"G")
                time.sleep(0.1)
        except OSError:
            pass
        assert time.monotonic() - started < 3
        ok = server.http()
        ok.request("GET", "/")
        assert ok.getresponse().status == 200  # a client that sends its headers is served as usual


def test_small_answers_are_not_held_back_by_delayed_acks() -> None:
    # serve hands uvicorn its socket by descriptor; without TCP_NODELAY on each connection a response written
    # in two parts waited for the client's delayed ACK: every small request took 40 ms
    with serve() as server:
        conn = server.http()
        took = []
        for _ in range(30):
            started = time.perf_counter()
            conn.request("GET", "/anyapi/v1/batches", headers={"Authorization": "Bearer k"})
            response = conn.getresponse()
            response.read()
            took.append(time.perf_counter() - started)
        took.sort()
        assert response.status == 200 and took[len(took) // 2] < 0.025, took


def test_keep_alive_connections_are_closed_after_the_configured_idle_time() -> None:
    with serve("--keep-alive", "0.5") as server:
        sock = server.connect()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(0.1)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        assert _closed_after(sock, 5) < 3


def test_a_stalled_body_is_answered_408_in_the_envelope_after_the_body_timeout() -> None:
    with serve("--body-timeout", "0.5") as server:
        sock = server.connect()
        sock.sendall(b"POST /retell/create-test-case-definition HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\": ")
        started = time.monotonic()
        sock.settimeout(5)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        assert 0.4 < time.monotonic() - started < 3
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408") and b"connection: close" in head.lower()
        assert json.loads(body)["status"] == "error"


def test_shutdown_lets_in_flight_requests_finish_and_cuts_stalled_ones_after_the_grace_period() -> None:
    with serve("--shutdown-grace", "1.5", "--body-timeout", "600") as server:
        admin = server.http()
        admin.request("POST", "/_mock/faults", body=json.dumps({"provider": "anyapi", "operation": "listBatches", "latency": 0.6}))
        assert admin.getresponse().status == 200
        stalled = server.connect()
        stalled.sendall(b"POST /anyapi/v1/files HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n"
                        b"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: 100000\r\n\r\n--B\r\n")
        result: dict[str, Any] = {}

        def in_flight() -> None:
            conn = server.http()
            conn.request("GET", "/anyapi/v1/batches", headers={"Authorization": "Bearer k"})
            result["status"] = conn.getresponse().status

        thread = threading.Thread(target=in_flight)
        thread.start()
        time.sleep(0.2)
        started = time.monotonic()
        server.terminate()
        server.proc.wait(timeout=15)
        took = time.monotonic() - started
        thread.join(5)
        print(f"\nshutdown with one stalled upload took {took:.2f} s (grace 1.5 s)")
        assert result.get("status") == 200  # the in-flight request finished
        assert 1.0 < took < 8  # the stalled upload was cut after the grace period, not waited for


def _chunk(sock: Any, data: bytes) -> None:
    sock.sendall(b"%x\r\n" % len(data) + data + b"\r\n")


def _stream_upload(server: ServerProcess, total: int, declare: bool) -> tuple[int, bytes]:
    """Send a multipart upload of ``total`` bytes from a generator (chunked, or with Content-Length declared)
    until the server answers; returns (bytes sent, the start of the answer)."""
    sock = server.connect(60)
    framing = f"Content-Length: {total}" if declare else "Transfer-Encoding: chunked"
    sock.sendall(f"POST /anyapi/v1/files HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n{framing}\r\n"
                 "Content-Type: multipart/form-data; boundary=B\r\n\r\n".encode())
    preamble = b'--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="a.jsonl"\r\n\r\n'
    block = b"x" * MiB
    sent, answer = 0, b""
    try:
        _chunk(sock, preamble) if not declare else sock.sendall(preamble)
        while sent < total:
            _chunk(sock, block) if not declare else sock.sendall(block)
            sent += len(block)
            if select.select([sock], [], [], 0)[0]:
                break
    except OSError:
        pass  # the server closed the connection after answering
    sock.settimeout(10)
    try:
        answer = sock.recv(65536)
    except OSError:
        pass
    sock.close()
    return sent, answer


def test_memory_stays_bounded_on_a_1_gb_upload() -> None:
    with serve() as server:
        before = server.status()
        sent, answer = _stream_upload(server, 1024 * MiB, declare=True)
        assert answer.startswith(b"HTTP/1.1 413") and sent <= 64 * MiB  # refused on its Content-Length
        sent, answer = _stream_upload(server, 1024 * MiB, declare=False)
        after = server.status()
        print(f"\n1 GB chunked upload: refused after {sent // MiB} MiB sent; server peak RSS {before['VmHWM'] // 1024} -> "
              f"{after['VmHWM'] // 1024} MiB")
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b'"code":413' in answer or b"413" in answer
        assert sent < 600 * MiB  # nothing past the 512 MiB limit (and a little framing) was read
        assert after["VmHWM"] - before["VmHWM"] < 100 * 1024  # KiB: the body never sat in memory
        conn = server.http()
        conn.request("GET", "/anyapi/v1/batches", headers={"Authorization": "Bearer k"})
        assert conn.getresponse().status == 200


POLLER = r"""
import sys, time, http.client
port, seconds = int(sys.argv[1]), float(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
end, lat = time.monotonic() + seconds, []
while time.monotonic() < end:
    t = time.perf_counter()
    c.request("GET", "/anyapi/v1/batches", headers={"Authorization": "Bearer poller"})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
    lat.append(time.perf_counter() - t)
    time.sleep(0.01)
lat.sort()
print(len(lat), lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1])
"""


def _poll_during(server: ServerProcess, work: Callable[[], Any], window: float) -> tuple[Any, float, list[float]]:
    poller = subprocess.Popen([sys.executable, "-c", POLLER, str(server.port), str(window)], stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    started = time.monotonic()
    out = work()
    took = time.monotonic() - started
    figures = [float(x) for x in poller.communicate(timeout=window + 30)[0].split()]
    return out, took, figures


def _post(server: ServerProcess, path: str, body: bytes, content_type: str, key: str = "k") -> int:
    """POST over a raw socket in 1 MiB blocks, stopping early if the server answers (a refused upload); the status."""
    sock = server.connect(300)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\nContent-Type: {content_type}\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n".encode())
    view = memoryview(body)
    try:
        for at in range(0, len(body), MiB):
            sock.sendall(view[at : at + MiB])
            if select.select([sock], [], [], 0)[0]:
                break
    except OSError:
        pass
    sock.settimeout(300)
    answer = sock.recv(65536)
    sock.close()
    return int(answer.split(b" ", 2)[1])


def _multipart(fields: dict[str, str], filename: str, content: bytes) -> bytes:
    out = b"".join(f'--B\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items())
    return out + f'--B\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n\r\n'.encode() + content + b"\r\n--B--\r\n"


def test_a_small_get_is_answered_quickly_while_the_largest_uploads_are_processed() -> None:
    mp = "multipart/form-data; boundary=B"
    csv_10k = b"customer_phone,name\n" + b"".join(b"+9198765%05d,n%d\n" % (i, i) for i in range(10_000))
    csv_1m = b"customer_phone\n" + b"".join(b"+9198%08d\n" % i for i in range(1_000_000))
    lines = jsonl(50_000)
    with serve() as server:
        file_id: dict[str, str] = {}

        def upload_jsonl() -> int:
            conn = server.http(300)
            conn.request("POST", "/anyapi/v1/files", body=_multipart({"purpose": "batch"}, "a.jsonl", lines), headers={"Authorization": "Bearer k", "Content-Type": mp})
            response = conn.getresponse()
            file_id["id"] = json.loads(response.read())["id"]
            return response.status

        def create_batch() -> int:
            body = json.dumps({"input_file_id": file_id["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}).encode()
            return _post(server, "/anyapi/v1/batches", body, "application/json")

        work = [
            ("FormantAI CSV, 10,000 rows (the largest allowed)", lambda: _post(server, "/formant/v1/batch-call", _multipart({"agent_id": "1", "name": "n"}, "c.csv", csv_10k), mp), 200, 2.5),
            ("FormantAI CSV, 1,000,000 rows (refused)", lambda: _post(server, "/formant/v1/batch-call", _multipart({"agent_id": "1", "name": "n"}, "c.csv", csv_1m), mp), 413, 1.5),
            ("50,000-line JSONL upload", upload_jsonl, 200, 1.5),
            ("50,000-line JSONL validated at batch create", create_batch, 200, 4.0),
            ("512 MiB file upload (the largest allowed)", lambda: _post(server, "/anyapi/v1/files", _multipart({"purpose": "assistants"}, "a.bin", b"y" * (512 * MiB)), mp, "big"), 200, 20.0),
        ]
        report = []
        for name, job, status, window in work:
            out, took, (count, median, p99, worst) = _poll_during(server, job, window)
            assert out == status, (name, out)
            report.append(f"  {name}: {took:.2f} s; concurrent GET median {median * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {worst * 1000:.1f} ms ({int(count)} GETs)")
            assert worst < 1.0, report[-1]  # generous: the 2-core CI machine is shared; the figures are printed
        print("\n" + "\n".join(report))
