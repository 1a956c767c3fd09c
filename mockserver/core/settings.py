"""One frozen description of how the fake behaves (built from defaults, a YAML config file and CLI flags by
``mockserver.config.settings``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Durations:
    """Seconds a simulated job spends in each phase (on the simulated clock)."""

    validating: float = 1.0
    in_progress: float = 2.0
    finalizing: float = 1.0
    cancelling: float = 1.0
    expiry_window: float = 86_400.0  # OpenAI: expires_at = created_at + 24h
    # Retell batch tests and FormantAI calls
    test_run: float = 2.0
    call: float = 2.0
    retry_delay: float = 5.0


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 512 * 1024 * 1024
    max_batch_file_bytes: int = 200 * 1024 * 1024
    max_batch_requests: int = 50_000
    max_errors_listed: int = 100
    # hardening (issue 12): every body, upload, store and walk of user JSON is bounded
    max_json_body_bytes: int = 4 * 1024 * 1024  # a JSON (or form-urlencoded) request body
    max_message_batch_bytes: int = 256 * 1024 * 1024  # a JSON body that creates an inline batch (Anthropic documents 256 MB)
    max_json_depth: int = 64  # nesting of arrays/objects in a JSON body or a JSONL line
    max_csv_bytes: int = 10 * 1024 * 1024  # FormantAI CSV upload (the docs state none: our choice)
    max_csv_rows: int = 10_000  # FormantAI data rows per batch call (the docs state none: our choice)
    namespace_quota_bytes: int = 1024 * 1024 * 1024  # what one API key may keep stored
    server_quota_bytes: int = 2 * 1024 * 1024 * 1024  # what all keys together may keep stored

    def replace(self, **changes: Any) -> Limits:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Timeouts:
    """Seconds (real time) the HTTP server waits for a client, and how long a shutdown may take."""

    header_read: float = 10.0  # from the connection (or the previous response) to the request's last header
    body_read: float = 30.0  # the longest pause between two chunks of a request body (408 after it)
    keep_alive: float = 5.0  # an idle keep-alive connection is closed after this
    graceful_shutdown: float = 10.0  # on SIGTERM in-flight requests get this long, then they are cut
    max_connections: int = 1000  # concurrent connections; more get 503 (uvicorn's limit_concurrency)
    max_header_bytes: int = 64 * 1024  # request line + headers (h11's max incomplete event size)

    def replace(self, **changes: Any) -> Timeouts:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Settings:
    seed: int = 0
    clock_speed: float = 1.0
    clock_start: float | None = None
    durations: Durations = field(default_factory=Durations)
    limits: Limits = field(default_factory=Limits)
    timeouts: Timeouts = field(default_factory=Timeouts)
    # every /_mock request (except /_mock/health) needs "Authorization: Bearer <admin_token>"; None: open
    admin_token: str | None = None
    # accepted API keys per provider; an empty tuple accepts any non-empty key
    api_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # share of batch lines (0..1) whose request fails with an HTTP error in the error file
    line_failure_rate: float = 0.0
    embedding_dimensions: int = 16
    # "off" | "warn" (record violations) | "strict" (record and raise)
    response_validation: str = "warn"
    # Phaseo documents its batch routes as "mounted but temporarily disabled": "working" | "not_implemented"
    phaseo_mode: str = "working"
    # Phaseo's batch `status` words: "documented" (queued, processing, completed, failed, cancelled, expired, as
    # its docs list them) or "upstream" (the OpenAI words of the upstream batch object: validating, in_progress ...)
    phaseo_status: str = "documented"
    # AnyAPI's cancel answer: "documented" (its 3 fields: id, object, status) or "full" (the whole batch object,
    # which typed clients such as the openai SDK in strict mode and LiteLLM parse)
    anyapi_cancel: str = "documented"
    # FormantAI's metrics success_rate: "percent_of_recipients" (100 * success_count / recipients, the guide's
    # 84.0 = 420 of 500) or "fraction_of_processed" (success_count / total_processed in [0, 1], the seed's scale)
    formant_success_rate: str = "percent_of_recipients"
    # where state lives: None in memory; a file path (SQLite) or a postgresql:// URL (see core/state/)
    state: str | None = None

    def keys_for(self, provider: str) -> tuple[str, ...]:
        return self.api_keys.get(provider, ())

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file, the key and what was expected."""
