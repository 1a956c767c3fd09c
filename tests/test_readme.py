"""The README runs as pasted: every ```python, ```bash and ```sh block of README.md is executed against a fake.

- The fake is ``mockserver serve`` (defaults: any non-empty key, real-time clock), started by this test on a free
  loopback port; the README's ``127.0.0.1:8080`` / ``localhost:8080`` are rewritten to that port (the suite must
  not take port 8080, which a developer's own ``make serve`` may hold). It is reset before every block, so each
  block runs on a fresh fake, as it would right after ``mockserver serve``.
- Blocks run in a temporary folder (with the venv's ``bin`` first on PATH, as after ``make install`` or
  ``pip install batchfake``); bash blocks with ``set -e -o pipefail``, python blocks with this interpreter.
  A python block that defines ``test_`` functions is a test file: it is run with pytest. A ```yaml block whose
  preceding line names a file (``with `seed.yaml` beside it``) is written there under that name first.
- A block whose info string holds the word ``template`` (```` ```bash template ````) is not run; it needs a reason:
  text after ``template`` in the info string, or the sentence just above the block.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.processes import serving

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
RUNNABLE = {"python": "python", "py": "python", "bash": "bash", "sh": "bash", "shell": "bash"}
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
BLOCK_TIMEOUT = 240.0


@dataclass
class Block:
    line: int  # 1-based line of the opening fence
    info: str
    body: str
    before: str  # the last non-empty line of text above the fence

    @property
    def lang(self) -> str:
        return self.info.split()[0].lower() if self.info.split() else ""

    @property
    def template(self) -> bool:
        return "template" in self.info.split()[1:] or any(w.startswith("template") for w in self.info.split()[1:])

    @property
    def id(self) -> str:
        return f"README.md:{self.line}:{self.lang}"


def blocks(text: str) -> list[Block]:
    """Every fenced code block (``` or ~~~, CommonMark's rules for the closing fence)."""
    out: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, start = match["fence"], i
        body: list[str] = []
        i += 1
        while i < len(lines) and not re.match(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[i]):
            body.append(lines[i][len(match["indent"]):] if lines[i].startswith(match["indent"]) else lines[i])
            i += 1
        before = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        out.append(Block(start + 1, match["info"].strip(), "\n".join(body) + "\n", before))
        i += 1
    return out


ALL = blocks(README.read_text())
RUN = [b for b in ALL if b.lang in RUNNABLE and not b.template]


def named_files(all_blocks: list[Block]) -> dict[str, str]:
    """```yaml (or json, jsonl, csv) blocks that the sentence above them names as a file: ``with `seed.yaml` beside it``."""
    files = {}
    for block in all_blocks:
        if block.lang in ("yaml", "yml", "json", "jsonl", "csv"):
            names = re.findall(r"`([\w.-]+\.(?:ya?ml|json|jsonl|csv))`", block.before)
            if len(names) == 1:
                files[names[0]] = block.body
    return files


@pytest.fixture(scope="module")
def fake() -> Iterator[str]:
    with serving(env={k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}) as url:
        yield url


def rewrite(body: str, url: str) -> str:
    port = url.rsplit(":", 1)[1]
    return re.sub(r"\b(?:127\.0\.0\.1|localhost):8080\b", f"127.0.0.1:{port}", body)


def test_the_readme_has_runnable_blocks() -> None:
    assert len(RUN) >= 5, [b.id for b in ALL]


@pytest.mark.parametrize("block", [b for b in ALL if b.template], ids=lambda b: b.id)
def test_a_template_block_says_why_it_is_not_run(block: Block) -> None:
    reason = block.info.split("template", 1)[1].strip(" :-—")
    assert reason or block.before, f"{block.id}: a template block needs a reason (in its info string or the line above it)"


@pytest.mark.parametrize("block", RUN, ids=lambda b: b.id)
def test_a_readme_block_runs_as_pasted(block: Block, fake: str, tmp_path: Path) -> None:
    httpx.post(fake + "/_mock/reset").raise_for_status()
    for name, content in named_files(ALL).items():
        (tmp_path / name).write_text(content)
    body = rewrite(block.body, fake)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    kind = RUNNABLE[block.lang]
    if kind == "bash":
        argv = ["bash", "-e", "-o", "pipefail", "-c", body]
    elif re.search(r"^def test_\w+\(", body, re.M):
        (tmp_path / "test_readme_block.py").write_text(body)
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_readme_block.py"]
    else:
        (tmp_path / "readme_block.py").write_text(body)
        argv = [sys.executable, "readme_block.py"]
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT)
    assert done.returncode == 0, f"{block.id} failed (exit {done.returncode}):\n{body}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"


def test_the_configuration_example_is_a_settings_file_the_server_accepts(tmp_path: Path) -> None:
    from mockserver.config.settings import load_settings, validate_settings

    text = README.read_text()
    section = text[text.index("\n## Configuration\n"):]
    example = next(b for b in blocks(section) if b.lang in ("yaml", "yml"))
    path = tmp_path / "mock.yaml"
    path.write_text(example.body)
    validate_settings(load_settings(str(path)), str(path))
