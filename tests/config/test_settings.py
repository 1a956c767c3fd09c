from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.config.settings import load_settings
from mockserver.core.settings import ConfigError


def test_config_file_sets_nested_values(tmp_path: Path) -> None:
    path = tmp_path / "mock.yaml"
    path.write_text("seed: 3\ndurations:\n  in_progress: 30\napi_keys:\n  anyapi: [k1, k2]\n")
    settings = load_settings(path)
    assert settings.seed == 3
    assert settings.durations.in_progress == 30.0
    assert settings.keys_for("anyapi") == ("k1", "k2")
    assert settings.keys_for("portkey") == ()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("sede: 1\n", "unknown key 'settings.sede'"),
        ("durations:\n  validating: soon\n", "'settings.durations.validating' must be a number"),
        ("line_failure_rate: 2\n", "line_failure_rate"),
        ("api_keys:\n  nobody: [x]\n", "api_keys"),
        ("seed: [\n", "not valid YAML"),
        ("seed: 1.7\n", "'settings.seed' must be a whole number"),
        ("durations:\n  validating: -5\n", "'durations.validating' must be a number of seconds >= 0"),
        ("embedding_dimensions: 0\n", "'embedding_dimensions' must be >= 1"),
        ("clock_speed: .nan\n", "'clock_speed' must be a finite number"),
        ("limits:\n  max_batch_requests: 0\n", "'limits.max_batch_requests' must be >= 1"),
        ("phaseo_status: openai\n", "'phaseo_status' must be documented or upstream"),
        ("anyapi_cancel: whole\n", "'anyapi_cancel' must be documented or full"),
        ("formant_success_rate: percent\n", "'formant_success_rate' must be percent_of_recipients or fraction_of_processed"),
    ],
)
def test_bad_config_names_the_file_and_the_key(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value) and needle in str(info.value)


def test_the_typed_client_switches_reach_the_settings_from_the_command_line() -> None:
    from mockserver.cli import _settings, build_parser

    args = build_parser({}).parse_args(["serve", "--anyapi-cancel", "full", "--phaseo-status", "upstream"])
    settings = _settings(args)
    assert (settings.anyapi_cancel, settings.phaseo_status) == ("full", "upstream")
    assert _settings(build_parser({}).parse_args(["serve"])).anyapi_cancel == "documented"
