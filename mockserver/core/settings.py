"""One frozen description of how the fake behaves, built from defaults, a YAML config file and CLI flags."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROVIDER_NAMES = ("anyapi", "portkey", "phaseo", "retell", "formant")


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
    # Phaseo's batch `status` words: "documented" (queued, processing, completed, failed, cancelled, expired, as
    # its docs list them) or "upstream" (the OpenAI words of the upstream batch object: validating, in_progress ...)
    phaseo_status: str = "documented"
    # FormantAI's metrics success_rate: "percent_of_recipients" (100 * success_count / recipients, the guide's
    # 84.0 = 420 of 500) or "fraction_of_processed" (success_count / total_processed in [0, 1], the seed's scale)
    formant_success_rate: str = "percent_of_recipients"

    def keys_for(self, provider: str) -> tuple[str, ...]:
        return self.api_keys.get(provider, ())

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file, the key and what was expected."""


def _build(cls: type, data: Any, where: str, source: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: '{where}' must be a mapping, got {type(data).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{source}: unknown key '{where}.{key}' (expected one of: {', '.join(sorted(known))})")
        default = known[key].default
        if key in ("durations", "limits"):
            values[key] = _build(Durations if key == "durations" else Limits, value, f"{where}.{key}", source)
        elif key == "api_keys":
            if not isinstance(value, dict) or not all(k in PROVIDER_NAMES for k in value):
                raise ConfigError(f"{source}: '{where}.api_keys' must map provider names ({', '.join(PROVIDER_NAMES)}) to lists of keys")
            values[key] = {k: tuple(str(x) for x in (v if isinstance(v, list) else [v])) for k, v in value.items()}
        elif isinstance(default, (int, float)) and not isinstance(default, bool) or key == "clock_start":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ConfigError(f"{source}: '{where}.{key}' must be a number, got {value!r}")
            if isinstance(default, int) and not isinstance(value, int):
                raise ConfigError(f"{source}: '{where}.{key}' must be a whole number, got {value!r}")
            values[key] = type(default)(value) if default is not None else float(value)
        elif isinstance(default, str):
            if not isinstance(value, str):
                raise ConfigError(f"{source}: '{where}.{key}' must be a string, got {value!r}")
            values[key] = value
        else:
            values[key] = value
    return cls(**values)


def load_settings(path: str | Path) -> Settings:
    source = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc}") from exc
    settings = _build(Settings, data, "settings", source)
    validate_settings(settings, source)
    return settings


def validate_settings(settings: Settings, source: str = "settings") -> None:
    if settings.response_validation not in ("off", "warn", "strict"):
        raise ConfigError(f"{source}: 'response_validation' must be off, warn or strict")
    if settings.phaseo_mode not in ("working", "not_implemented"):
        raise ConfigError(f"{source}: 'phaseo_mode' must be working or not_implemented")
    if settings.phaseo_status not in ("documented", "upstream"):
        raise ConfigError(f"{source}: 'phaseo_status' must be documented or upstream")
    if settings.formant_success_rate not in ("percent_of_recipients", "fraction_of_processed"):
        raise ConfigError(f"{source}: 'formant_success_rate' must be percent_of_recipients or fraction_of_processed")
    if not 0.0 <= settings.line_failure_rate <= 1.0:
        raise ConfigError(f"{source}: 'line_failure_rate' must be between 0 and 1")
    if not math.isfinite(settings.clock_speed) or not 0 <= settings.clock_speed <= 1_000_000:
        raise ConfigError(f"{source}: 'clock_speed' must be a finite number from 0 to 1000000")
    for name, value in dataclasses.asdict(settings.durations).items():
        if math.isnan(value) or value < 0:
            raise ConfigError(f"{source}: 'durations.{name}' must be a number of seconds >= 0 (.inf: never), got {value!r}")
    for name, value in dataclasses.asdict(settings.limits).items():
        if value < 1:
            raise ConfigError(f"{source}: 'limits.{name}' must be >= 1, got {value!r}")
    if settings.embedding_dimensions < 1:
        raise ConfigError(f"{source}: 'embedding_dimensions' must be >= 1, got {settings.embedding_dimensions!r}")
