"""Settings from a YAML config file and their checks: each mistake names the file, the key and what was expected."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import yaml

from ..core.settings import ConfigError, Durations, Limits, Settings, Timeouts
from ..providers.registry import PROVIDERS
from ..spec.loader import load_yaml

PROVIDER_NAMES = tuple(PROVIDERS)


def _build(cls: type, data: Any, where: str, source: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: '{where}' must be a mapping, got {type(data).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{source}: unknown key '{where}.{key}' (expected one of: {', '.join(sorted(known))})")
        default: Any = known[key].default
        if key in ("durations", "limits", "timeouts"):
            part = {"durations": Durations, "limits": Limits, "timeouts": Timeouts}[key]
            values[key] = _build(part, value, f"{where}.{key}", source)
        elif key == "clock_start" and value is None:
            values[key] = None  # the README's example: start at the real time
        elif key == "admin_token":
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(f"{source}: '{where}.admin_token' must be a non-empty string")
            values[key] = value
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
        data = load_yaml(Path(path).read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc}") from exc
    settings: Settings = _build(Settings, data, "settings", source)
    validate_settings(settings, source)
    return settings


def validate_settings(settings: Settings, source: str = "settings") -> None:
    if settings.response_validation not in ("off", "warn", "strict"):
        raise ConfigError(f"{source}: 'response_validation' must be off, warn or strict")
    if settings.phaseo_mode not in ("working", "not_implemented"):
        raise ConfigError(f"{source}: 'phaseo_mode' must be working or not_implemented")
    if settings.phaseo_status not in ("documented", "upstream"):
        raise ConfigError(f"{source}: 'phaseo_status' must be documented or upstream")
    if settings.anyapi_cancel not in ("documented", "full"):
        raise ConfigError(f"{source}: 'anyapi_cancel' must be documented or full")
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
    for name, value in dataclasses.asdict(settings.timeouts).items():
        if math.isnan(value) or value <= 0:
            raise ConfigError(f"{source}: 'timeouts.{name}' must be a number > 0, got {value!r}")
    if settings.admin_token is not None and not settings.admin_token.strip():
        raise ConfigError(f"{source}: 'admin_token' must be a non-empty string")
    if settings.state is not None and (not isinstance(settings.state, str) or not settings.state.strip()):
        raise ConfigError(f"{source}: 'state' must be a file path or a postgresql:// URL, got {settings.state!r}")
    if settings.embedding_dimensions < 1:
        raise ConfigError(f"{source}: 'embedding_dimensions' must be >= 1, got {settings.embedding_dimensions!r}")
