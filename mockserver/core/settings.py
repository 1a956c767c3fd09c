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


@dataclass(frozen=True)
class Settings:
    seed: int = 0
    clock_speed: float = 1.0
    clock_start: float | None = None
    durations: Durations = field(default_factory=Durations)
    limits: Limits = field(default_factory=Limits)
    # accepted API keys per provider; an empty tuple accepts any non-empty key
    api_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # share of batch lines (0..1) whose request fails with an HTTP error in the error file
    line_failure_rate: float = 0.0
    embedding_dimensions: int = 16
    # "off" | "warn" (record violations) | "strict" (record and raise)
    response_validation: str = "warn"
    # Phaseo documents its batch routes as "mounted but temporarily disabled": "working" | "not_implemented"
    phaseo_mode: str = "working"
    # where state lives: None in memory; a file path (SQLite) or a postgresql:// URL (see core/state/)
    state: str | None = None

    def keys_for(self, provider: str) -> tuple[str, ...]:
        return self.api_keys.get(provider, ())

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file, the key and what was expected."""
