"""The built package, installed into a fresh venv outside the repository, does what the README says, run from a
folder that is not the repository: serve every provider, run the contract kit, check the specs, and give a user's
own project the pytest plugin. (The install is the Dockerfile's: see conftest.py.)"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import OpenAI

import mockserver

REPO = Path(__file__).resolve().parents[2]
DATA = ["specs/anyapi.yaml", "specs/portkey.yaml", "specs/phaseo.yaml", "specs/retell.yaml", "specs/formant.yaml",
        "fixtures/seed_examples.yaml", "fixtures/scenarios.yaml", "fixtures/flaky.yaml",
        "contract_tests/seed_fields.json", "contract_tests/baselines/anyapi.json"]


def test_version(image_install: Any) -> None:
    done = image_install.mockserver("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"mockserver {mockserver.__version__}"


def test_the_data_files_are_read_from_the_installed_package_and_match_the_repository(image_install: Any) -> None:
    probe = ("import json, mockserver; from mockserver.spec.loader import data_path, specs_dir; "
             "print(json.dumps({'package': mockserver.__file__, 'specs': str(specs_dir()), 'data': str(data_path())}))")
    done = image_install.run(str(image_install.bin / "python"), "-c", probe)
    assert done.returncode == 0, done.stderr
    where = json.loads(done.stdout)
    for path in where.values():
        assert Path(path).is_relative_to(image_install.venv), f"{path} is not inside the installed package"
    data = Path(where["data"])
    for name in DATA:  # one source of truth: the installed copies are the repository's files
        assert (data / name).read_bytes() == (REPO / name).read_bytes(), name
    assert sorted(p.name for p in Path(where["specs"]).glob("*.yaml")) == sorted(p.name for p in (REPO / "specs").glob("*.yaml"))


def test_the_sdist_carries_the_data_and_builds_a_complete_wheel(image_install: Any, tmp_path: Path) -> None:
    # python -m build: the sdist first, then the wheel built from the unpacked sdist (so the sdist must be complete)
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(tmp_path), str(image_install.root / "src")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    sdist, = tmp_path.glob("batchfake-*.tar.gz")
    wheel, = tmp_path.glob("batchfake-*.whl")
    with tarfile.open(sdist) as tar:
        members = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    assert {"setup.py", "pyproject.toml", *DATA} <= members
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"mockserver/_data/{name}" for name in DATA} <= names
    assert "mockserver/py.typed" in names


def test_serve_answers_every_provider_and_the_openai_sdk_runs_a_full_batch(image_install: Any) -> None:
    with image_install.serving([str(image_install.bin / "mockserver"), "serve", "--clock-speed", "0"]) as url:
        index = httpx.get(url + "/").json()
        assert sorted(index["providers"]) == ["anthropic", "anyapi", "formant", "openai", "phaseo", "portkey", "retell"]
        for name in index["providers"]:
            spec = httpx.get(f"{url}/_mock/specs/{name}?format=json")
            assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.")
        key = {"Authorization": "Bearer k"}
        assert httpx.get(url + "/phaseo/v1/batches", headers=key).status_code == 200
        assert httpx.get(url + "/portkey/v1/batches", headers={"x-portkey-api-key": "k", "x-portkey-provider": "openai"}).status_code == 200
        assert httpx.get(url + "/retell/v2/list-batch-tests", params={"type": "retell-llm", "llm_id": "llm_1"}, headers=key).status_code == 200
        assert httpx.get(url + "/formant/v1/batch-calls", headers=key).status_code == 200

        client = OpenAI(base_url=url + "/anyapi/v1", api_key="k")
        lines = "".join(json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions",
                                    "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": str(i)}]}}) + "\n"
                        for i in range(3))
        upload = client.files.create(file=("in.jsonl", io.BytesIO(lines.encode())), purpose="batch")
        batch = client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
        assert batch.status == "validating"
        httpx.post(url + "/_mock/clock/advance", json={"seconds": 60}).raise_for_status()
        batch = client.batches.retrieve(batch.id)
        assert batch.status == "completed" and batch.request_counts.completed == 3
        output = client.files.content(batch.output_file_id).text.splitlines()
        assert [json.loads(line)["custom_id"] for line in output] == ["r0", "r1", "r2"]


def test_contract_kit_runs_from_the_installed_package(image_install: Any) -> None:
    done = image_install.mockserver("contract", "--provider", "anyapi", "--max-examples", "3", "--junit", "reports/anyapi.xml", timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"^PASSED: \d+ of \d+ operation checks passed", done.stdout, re.M)
    assert (image_install.home / "reports" / "anyapi.xml").is_file()  # the folder is created on demand
    assert "anyapi: coverage" in done.stderr  # progress while it runs


def test_specs_check_runs_from_the_installed_package(image_install: Any) -> None:
    done = image_install.mockserver("specs", "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "seed field" in done.stdout


def _readme_plugin_example() -> tuple[str, str]:
    """The README's complete pytest file and the seed.yaml beside it, as a user copies them."""
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"^```(\w+)[^\n]*\n(.*?)^```", readme, re.M | re.S)
    test = next(body for lang, body in blocks if lang == "python" and "def test_a_batch_completes_when_the_clock_moves" in body)
    seed = next(body for lang, body in blocks if lang == "yaml" and "batch_nightly" in body)
    return test, seed


@pytest.fixture(scope="session")
def user_project(image_install: Any) -> Path:
    """A project of its own: the wheel (installed) and the SDK its tests use, nothing from this repository."""
    done = image_install.run(str(image_install.bin / "python"), "-m", "pip", "install", "--quiet", "--no-compile", "openai>=2.0", timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    project = image_install.home / "project"
    (project / "tests").mkdir(parents=True)
    test, seed = _readme_plugin_example()
    (project / "tests" / "test_batches.py").write_text(test)
    (project / "tests" / "seed.yaml").write_text(seed)
    return project


def test_the_readme_plugin_example_passes_in_a_project_that_installed_only_the_wheel(image_install: Any, user_project: Path) -> None:
    done = image_install.run(str(image_install.bin / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests",
                             cwd=user_project, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(r"\b5 passed\b", done.stdout), done.stdout[-2000:]


def test_running_works_in_a_plain_script(image_install: Any, user_project: Path) -> None:
    script = user_project / "script.py"
    script.write_text(
        "import httpx, mockserver\n"
        "with mockserver.running() as fake:\n"
        "    before = fake.clock.now()\n"
        "    fake.clock.advance(30)\n"
        "    assert fake.clock.now() == before + 30\n"
        "    r = httpx.get(fake.base_url('anyapi') + '/batches', headers={'Authorization': 'Bearer k'})\n"
        "    assert r.status_code == 200 and [e.operation for e in fake.requests()] == ['listBatches']\n"
        "    fake.reset()\n"
        "    assert fake.requests() == []\n"
        "print('ok')\n"
    )
    done = image_install.run(str(image_install.bin / "python"), str(script), cwd=user_project)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr
