"""Shared fixtures: one strict live server per session (every response is checked against its spec)."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from starlette.testclient import TestClient

from mockserver.core.settings import Settings
from mockserver.server.app import create_app
from mockserver.server.live import LiveServer

STRICT = Settings(response_validation="strict")

# in CI the property tests replay the same examples every run (no flaky landing); locally they explore
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(scope="session")
def live() -> Iterator[LiveServer]:
    with LiveServer(STRICT) as server:
        yield server


def _emptied(live: LiveServer, speed: float) -> Iterator[LiveServer]:
    live.engine.reset()
    live.engine.clock.set_speed(speed)
    yield live
    assert list(live.engine.violations) == [], live.engine.violations


@pytest.fixture
def server(live: LiveServer) -> Iterator[LiveServer]:
    """The session's live server, emptied before the test; the test fails if any response broke its spec."""
    yield from _emptied(live, 1.0)


@pytest.fixture
def frozen_server(live: LiveServer) -> Iterator[LiveServer]:
    """As ``server``, with the simulated clock frozen: it moves only by ``clock.advance``."""
    yield from _emptied(live, 0.0)


@pytest.fixture
def client() -> Iterator[TestClient]:
    """The fake in-process (no socket), strict: a response that breaks its spec raises in the test."""
    app = create_app(STRICT)
    with TestClient(app) as test_client:
        yield test_client
    assert list(app.state.engine.violations) == []


def jsonl(n: int, url: str = "/v1/chat/completions", **body: Any) -> bytes:
    """A valid batch input file of ``n`` requests."""
    lines = []
    for i in range(n):
        if url.endswith("embeddings"):
            payload: dict[str, Any] = {"model": "text-embedding-3-small", "input": f"text {i}"}
        elif url.endswith("/completions") and "chat" not in url:
            payload = {"model": "gpt-3.5-turbo-instruct", "prompt": f"Say {i}"}
        elif url.endswith("responses"):
            payload = {"model": "gpt-4o-mini", "input": f"Question {i}"}
        elif url.endswith("moderations"):
            payload = {"model": "omni-moderation-latest", "input": f"Text {i}"}
        elif url.endswith("images/generations"):
            payload = {"model": "gpt-image-1", "prompt": f"Picture {i}", "quality": "low"}
        elif url.endswith("images/edits"):
            payload = {"model": "gpt-image-1", "prompt": f"Edit {i}", "images": [{"image_url": "https://example.com/a.png"}]}
        elif url.endswith("videos"):
            payload = {"model": "sora-2", "prompt": f"Scene {i}", "seconds": "4", "size": "1280x720"}
        else:
            payload = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Hello {i}"}]}
        payload.update(body)
        lines.append(json.dumps({"custom_id": f"req-{i}", "method": "POST", "url": url, "body": payload}))
    return ("\n".join(lines) + "\n").encode()


def upload(data: bytes, name: str = "input.jsonl") -> tuple[str, io.BytesIO]:
    return (name, io.BytesIO(data))
