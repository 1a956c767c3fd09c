"""Every request the kit sends to a target goes through one meter: a hard budget, Retry-After, no leaked keys.

The meter wraps ``requests``' HTTP adapter for the duration of a run, so it also counts what schemathesis
sends on its own (auth probes, coverage probes, stateful steps), not only the kit's calls. Only requests
to the target's origin are counted; anything else passes untouched.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters

RETRY_STATUSES = frozenset({429, 503})


class BudgetExhausted(requests.exceptions.RequestException):
    """The run's request budget is spent; nothing more is sent."""


class NotPermitted(requests.exceptions.RequestException):
    """The run is limited to some operations (``--operation``); this request is for another one and is not sent."""


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Meter:
    """Counts requests to one origin, refuses those over budget, waits and retries on Retry-After."""

    def __init__(
        self,
        base_url: str,
        budget: int | None = None,
        max_wait: float = 60.0,
        max_retries: int = 2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.origin = origin(base_url)
        self.budget = budget
        self.max_wait = max_wait
        self.max_retries = max_retries
        self.sleep = sleep
        self.sent = 0
        self.reserved = 0  # kept back for clean-up of what the run created
        self.waited = 0.0
        self.refused = 0
        self.by_method: dict[str, int] = {}
        self.on_exhausted: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._cleanup = threading.local()
        self._original: Any = None
        # (method, URL) -> whether it may be sent: set when the run is limited to some operations
        self.permit: Callable[[str, str], bool] | None = None
        self.not_permitted: dict[str, int] = {}

    # -- budget ----------------------------------------------------------------------------------

    @property
    def exhausted(self) -> bool:
        return self.refused > 0

    def remaining(self) -> int | None:
        """Requests still free to spend (the clean-up reserve excluded); None without a budget."""
        return None if self.budget is None else self.budget - self.sent - self.reserved

    def reserve(self, count: int) -> bool:
        """Keep ``count`` requests back for clean-up; False (nothing reserved) if the budget cannot afford it."""
        with self._lock:
            if self.budget is not None and self.sent + self.reserved + count > self.budget:
                return False
            self.reserved += count
            return True

    @contextmanager
    def cleanup(self) -> Iterator[None]:
        """Requests sent inside this block are paid from the reserve."""
        self._cleanup.active = True
        try:
            yield
        finally:
            self._cleanup.active = False

    def _take(self, method: str) -> None:
        refused = False
        with self._lock:
            if self.budget is not None:
                if getattr(self._cleanup, "active", False) and self.reserved > 0:
                    self.reserved -= 1  # paid from the clean-up reserve
                elif self.sent + self.reserved >= self.budget:
                    self.refused += 1
                    refused = True
            if not refused:
                self.sent += 1
                self.by_method[method] = self.by_method.get(method, 0) + 1
        if refused:
            for callback in list(self.on_exhausted):
                callback()
            raise BudgetExhausted(f"request budget of {self.budget} spent")

    # -- transport -------------------------------------------------------------------------------

    def _send(self, adapter: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        original = self._original
        if not request.url or origin(request.url) != self.origin:
            passed: requests.Response = original(adapter, request, *args, **kwargs)
            return passed
        if self.permit is not None and not self.permit(request.method or "GET", request.url):
            what = f"{request.method} {urlsplit(request.url).path}"
            with self._lock:
                self.not_permitted[what] = self.not_permitted.get(what, 0) + 1
            raise NotPermitted(f"not sent: {what} is outside the operations the run is limited to")
        retries = 0
        while True:
            self._take(request.method or "GET")
            response: requests.Response = original(adapter, request, *args, **kwargs)
            if response.status_code not in RETRY_STATUSES or retries >= self.max_retries:
                return response
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is None or wait > self.max_wait:
                return response
            remaining = self.remaining()
            if remaining is not None and remaining <= 0:
                return response
            self.sleep(wait)
            with self._lock:
                self.waited += wait
            retries += 1
            response.close()

    def __enter__(self) -> Meter:
        if self._original is not None:
            raise RuntimeError("meter already installed")
        self._original = requests.adapters.HTTPAdapter.send
        meter = self

        def send(adapter: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
            return meter._send(adapter, request, *args, **kwargs)

        requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: Any) -> None:
        requests.adapters.HTTPAdapter.send = self._original  # type: ignore[method-assign]
        self._original = None


class Sanitizer:
    """Replaces every secret (API keys, credential headers) in text that leaves the kit."""

    MASK = "[REDACTED]"

    def __init__(self, secrets: list[str] | tuple[str, ...] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self.secrets:
                value = value.replace(secret, self.MASK)
            return value
        if isinstance(value, dict):
            return {self(k): self(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self(v) for v in value)
        return value
