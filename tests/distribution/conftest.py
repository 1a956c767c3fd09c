"""The package as a user gets it: the Dockerfile's install commands run in a fresh venv in a temporary folder
outside the repository, and the commands a user types, run from that folder.

No Docker daemon runs here, so the image is not built: ``image_install`` reads the Dockerfile and runs the same
steps on this machine instead: ``COPY . /src`` copies the repository as the build context (``.dockerignore``
applied), every ``RUN`` that installs with pip runs with ``python`` the fresh venv's and ``/src``, ``/dist`` the
temporary folders (the ``useradd`` step is skipped), ``ENV`` becomes the environment of every command. A Dockerfile
whose build or start commands stop working fails here.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mockserver.server.live import free_port
from tests.processes import wait_until_serving

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


@dataclass
class Instruction:
    keyword: str
    args: str
    stage: int


def dockerfile(path: Path = DOCKERFILE) -> list[Instruction]:
    """The instructions, continuation lines joined, comments dropped, each with its build stage (0, 1, ...)."""
    text = re.sub(r"\\\n", " ", path.read_text())
    stage = -1
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        out.append(Instruction(keyword, re.sub(r"\s+", " ", args.strip()), stage))
    return out


def exec_form(args: str) -> list[str]:
    """``CMD ["a", "b"]`` (JSON exec form) or ``CMD a b`` (shell form) as an argument list."""
    return json.loads(args) if args.startswith("[") else shlex.split(args)


@dataclass
class Image:
    """The Dockerfile, parsed: what the tests check and run."""

    instructions: list[Instruction]

    @property
    def final(self) -> int:
        return max(i.stage for i in self.instructions)

    def args(self, keyword: str, final_only: bool = False) -> list[str]:
        return [i.args for i in self.instructions if i.keyword == keyword and (not final_only or i.stage == self.final)]

    @property
    def cmd(self) -> list[str]:
        return exec_form(self.args("CMD", final_only=True)[-1])

    @property
    def healthcheck(self) -> list[str]:
        return exec_form(self.args("HEALTHCHECK")[-1].split(" CMD ", 1)[1])


@pytest.fixture(scope="session")
def image() -> Image:
    return Image(dockerfile())


def env_of(instructions: list[Instruction], stage: int) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword == "ENV" and ins.stage == stage:
            for item in shlex.split(ins.args):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def _ignored(relative: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        bare = pattern.rstrip("/")
        candidates = [bare, f"{bare}/*"] + ([bare[3:], f"{bare[3:]}/*", f"*/{bare[3:]}", f"*/{bare[3:]}/*"] if bare.startswith("**/") else [])
        if any(fnmatch.fnmatch(relative, c) for c in candidates):
            return True
    return False


def copy_context(destination: Path) -> None:
    """``COPY . /src``: the repository's tracked and untracked files, less what .dockerignore excludes."""
    patterns = [p.strip() for p in (REPO / ".dockerignore").read_text().splitlines() if p.strip() and not p.startswith("#")]
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True)
    for relative in listed.stdout.splitlines():
        source = REPO / relative
        if not source.is_file() or _ignored(relative, patterns):
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


@dataclass
class Installed:
    """A fresh venv holding the package as the Dockerfile installs it, and a folder outside the repo to work in."""

    root: Path
    venv: Path
    home: Path
    env: dict[str, str] = field(default_factory=dict)
    install_seconds: float = 0.0

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 120, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """A command from the work folder, with the image's environment (the venv first on PATH)."""
        return subprocess.run(list(args), cwd=cwd or self.home, env={**self.env, **(env_extra or {})}, capture_output=True,
                              text=True, timeout=timeout)

    def mockserver(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.bin / "mockserver"), *args, timeout=timeout)

    def serving(self, argv: list[str], port: int | None = None, extra_env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        """``with installed.serving([...]) as url:`` a server command of this install, up and healthy."""
        return _serving(self, argv, port, extra_env)


def _translate(command: str, root: Path, venv: Path) -> str:
    """A RUN line of the Dockerfile for this machine: the venv's python, the temporary folders."""
    command = re.sub(r"(?<![\w/.-])python(?=\s)", str(venv / "bin" / "python"), command)
    for folder in ("/src", "/dist"):
        command = re.sub(rf"(?<![\w.-]){folder}(?=[/\s]|$)", str(root / folder.lstrip("/")), command)
    return command


@pytest.fixture(scope="session")
def image_install(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    started = time.monotonic()
    root = tmp_path_factory.mktemp("image")
    assert not root.resolve().is_relative_to(REPO), "the install must happen outside the repository"
    instructions = dockerfile()
    final = max(i.stage for i in instructions)
    copy_context(root / "src")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("MOCKSERVER_", "PYTHON", "VIRTUAL_ENV"))}
    for ins in instructions:
        if ins.keyword != "RUN":
            continue
        if "useradd" in ins.args:
            continue  # the unprivileged user of the image; here the tests' own user runs everything
        assert "pip" in ins.args, f"a RUN step this test does not know how to run outside Docker: {ins.args}"
        command = _translate(ins.args, root, venv)
        done = subprocess.run(["bash", "-c", command], cwd=root, env=base_env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"Dockerfile step failed: RUN {ins.args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    home = root / "home"
    home.mkdir()
    env = {**base_env, **env_of(instructions, final), "PATH": f"{venv / 'bin'}{os.pathsep}{base_env.get('PATH', '')}", "HOME": str(home)}
    return Installed(root, venv, home, env, time.monotonic() - started)


@contextmanager
def _serving(installed: Installed, argv: list[str], port: int | None = None, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Run a server command from ``installed`` (its port from MOCKSERVER_PORT), wait for /_mock/health, yield the URL."""
    port = port or free_port()
    env = {**installed.env, "MOCKSERVER_PORT": str(port), **(extra_env or {})}
    proc = subprocess.Popen(argv, cwd=installed.home, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc, output=lambda: f"{argv}: {proc.communicate()[0][-3000:]}")
        yield url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
