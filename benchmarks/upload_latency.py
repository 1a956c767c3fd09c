"""A small GET's latency while the largest allowed upload (512 MiB) streams in (issue 12: under 100 ms).

Not a test: it prints figures. A `mockserver serve` process on a free loopback port; a poller process sends
``GET /anyapi/v1/batches`` every 10 ms while this process uploads 512 MiB (multipart, 1 MiB socket writes).

    .venv/bin/python benchmarks/upload_latency.py [--runs 5] [--mib 512] [--window 12]

``--window``: seconds the poller runs per upload (from just before it starts; the upload must fit in it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hostile.serverproc import serve
from tests.hostile.test_server_limits import MiB, _multipart, _poll_during, _post


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mib", type=int, default=512)
    parser.add_argument("--window", type=float, default=12.0)
    args = parser.parse_args()
    body = _multipart({"purpose": "assistants"}, "a.bin", b"y" * (args.mib * MiB))
    rows = []
    with serve() as server:
        for run in range(1, min(args.runs, 20) + 1):
            status, took, (count, median, p99, worst) = _poll_during(server, lambda: _post(server, "/anyapi/v1/files", body, "multipart/form-data; boundary=B", f"big{run}"), args.window)
            rows.append((median, p99, worst))
            print(f"run {run}: {status} in {took:.2f} s; GET median {median * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {worst * 1000:.1f} ms ({int(count)} GETs)", flush=True)
            server.http().request("POST", "/_mock/reset")
    for name, index in (("median", 0), ("p99", 1), ("max", 2)):
        values = sorted(r[index] * 1000 for r in rows)
        print(f"{name:6s}: median of runs {statistics.median(values):.1f} ms, range {values[0]:.1f}-{values[-1]:.1f} ms")


if __name__ == "__main__":
    main()
