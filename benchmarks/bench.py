"""Prints speed and memory figures for the fake. Not a test: nothing here asserts.

    .venv/bin/python benchmarks/bench.py [--idle 100000] [--lines 50000] [--requests 2000]
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc

import httpx

from mockserver.core.engine import Engine
from mockserver.core.settings import Settings
from mockserver.server.live import LiveServer
from mockserver.providers.openai_family.models import OpenAIBatchBackend


def idle_batches(count: int) -> None:
    engine = Engine(Settings(), {"x": lambda e: OpenAIBatchBackend(e)})
    backend = engine.backend("x", "k")
    file = backend.create_file("in.jsonl", "batch", b'{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"m"}}\n')
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    for _ in range(count):
        backend.create_batch(file.id, "/v1/chat/completions", "24h")
    elapsed = time.perf_counter() - start
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    per = current / count
    print(f"idle batches:     {count:>9,} created in {elapsed:6.2f} s ({count / elapsed:,.0f}/s), "
          f"{per:,.0f} B each -> ~{per * 1_000_000 / 2**30:.2f} GiB per million; no thread or timer per batch")
    start = time.perf_counter()
    states = {b.state for b in backend.all_batches()}
    print(f"advance all:      {count:>9,} batches evaluated lazily in {time.perf_counter() - start:6.2f} s (states now: {sorted(states)})")


def big_batch(lines: int) -> None:
    engine = Engine(Settings(), {"x": lambda e: OpenAIBatchBackend(e)})
    engine.clock.set_speed(0)
    backend = engine.backend("x", "k")
    content = "\n".join(
        json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions",
                    "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Question number {i}"}]}})
        for i in range(lines)
    ).encode()
    file = backend.create_file("in.jsonl", "batch", content)
    start = time.perf_counter()
    batch = backend.create_batch(file.id, "/v1/chat/completions", "24h")
    validated = time.perf_counter() - start
    engine.clock.advance(60)
    start = time.perf_counter()
    batch = backend.retrieve_batch(batch.id)
    produced = time.perf_counter() - start
    size = backend.retrieve_file(batch.output_file_id).bytes
    print(f"large batch:      {lines:>9,} lines ({len(content) / 2**20:.1f} MiB) validated in {validated:.2f} s; "
          f"output ({size / 2**20:.1f} MiB) written in {produced:.2f} s on the read that completed it")


def http_round_trips(requests: int) -> None:
    with LiveServer(Settings(response_validation="warn")) as server, httpx.Client(base_url=server.base_url("anyapi")) as client:
        headers = {"Authorization": "Bearer k"}
        line = b'{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{}}\n'
        file_id = client.post("/files", headers=headers, data={"purpose": "batch"}, files={"file": ("a.jsonl", line)}).json()["id"]
        body = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        start = time.perf_counter()
        ids = [client.post("/batches", headers=headers, json=body).json()["id"] for _ in range(requests // 2)]
        for batch_id in ids:
            client.get(f"/batches/{batch_id}", headers=headers)
        elapsed = time.perf_counter() - start
    print(f"HTTP (loopback):  {requests:>9,} create+retrieve requests in {elapsed:6.2f} s = {requests / elapsed:,.0f} req/s, "
          f"{1000 * elapsed / requests:.1f} ms each (one client, keep-alive; request+response validation on)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=2_000)
    args = parser.parse_args()
    idle_batches(args.idle)
    big_batch(args.lines)
    http_round_trips(args.requests)


if __name__ == "__main__":
    main()
