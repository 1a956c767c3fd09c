"""Plain schemathesis (its CLI, every phase) on each vendored spec against a key-restricted fake: no failures,
given the documented refusals in specs/schemathesis.toml; and those refusals are the kit's."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from mockserver.contract.profiles import PROFILES
from mockserver.spec.loader import specs_dir
from tests.processes import serving

KEY = "sk-plain-schemathesis-0123"
CONFIG = specs_dir() / "schemathesis.toml"
PROVIDERS = ("anyapi", "portkey", "phaseo", "retell", "formant", "openai", "anthropic")


@pytest.fixture(scope="module")
def restricted() -> Iterator[str]:
    """`mockserver serve --api-key KEY` in its own process (so it does not share a core with the seven clients)."""
    with serving("--api-key", KEY, log_level="critical") as url:
        yield url


def _base(root: str, provider: str) -> str:
    return f"{root}/{provider}/v1" if provider in ("anyapi", "portkey", "phaseo", "openai") else f"{root}/{provider}"


def _headers(provider: str) -> list[str]:
    if provider == "portkey":  # the gateway's key, and the routing header it also needs
        return ["-H", f"x-portkey-api-key: {KEY}", "-H", "x-portkey-virtual-key: vk-plain"]
    if provider == "anthropic":  # its key header, and the version header every request needs
        return ["-H", f"x-api-key: {KEY}", "-H", "anthropic-version: 2023-06-01"]
    return ["-H", f"Authorization: Bearer {KEY}"]


def test_plain_schemathesis_reports_no_failure_on_any_spec(restricted: str, tmp_path: Path) -> None:
    cli = Path(sys.executable).with_name("schemathesis")
    runs = {}
    for provider in PROVIDERS:  # the seven runs at once: the fake serves them all
        command = [str(cli), "--config-file", str(CONFIG), "run", str(specs_dir() / f"{provider}.yaml"),
                   "--url", _base(restricted, provider), *_headers(provider), "--max-examples", "2", "--seed", "1",
                   "--request-timeout", "10", "--no-color"]
        runs[provider] = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    failed = {}
    for provider, process in runs.items():
        out, _ = process.communicate(timeout=240)
        if process.returncode != 0:
            failed[provider] = out[-3000:]
    assert not failed, "\n\n".join(f"== {p}\n{o}" for p, o in failed.items())


def test_the_refusals_are_those_of_the_kit() -> None:
    config = tomllib.loads(CONFIG.read_text())
    declared: dict[str, dict[str, set[str]]] = {}
    for project in config["project"]:
        for entry in project.get("operations", []):
            ids = entry["include-operation-id"]
            statuses = set(entry["checks"]["positive_data_acceptance"]["expected-statuses"])
            for operation_id in [ids] if isinstance(ids, str) else ids:
                declared.setdefault(project["title"], {})[operation_id] = statuses
    for profile in PROFILES.values():
        title = yaml.safe_load((specs_dir() / f"{profile.spec}.yaml").read_text())["info"]["title"]
        for operation_id, (statuses, _why) in profile.refusals.items():
            assert {str(s) for s in statuses} <= declared.get(title, {}).get(operation_id, set()), (profile.name, operation_id)
