"""Packaging hook: the wheel carries the repository's data folders inside the package, as ``mockserver/_data/``.

``specs/``, ``fixtures/`` and the contract kit's baselines stay where they are, the one source of truth; a build
copies them into the package it builds (``build_py``), so an installed wheel finds them with
``importlib.resources`` (see ``mockserver.spec.loader.data_path``). An editable install (``pip install -e .``)
copies nothing: the package reads the checkout's own folders. Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# (what, where under mockserver/_data/): every data file the code reads
DATA = (
    ("specs", "specs"),
    ("fixtures", "fixtures"),
    ("contract_tests/baselines", "contract_tests/baselines"),
    ("contract_tests/seed_fields.json", "contract_tests/seed_fields.json"),
    ("contract_tests/known_findings.json", "contract_tests/known_findings.json"),
)


class build_py_with_data(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # the checkout's own folders are read
        target = Path(self.build_lib) / "mockserver" / "_data"
        shutil.rmtree(target, ignore_errors=True)  # an in-tree build/ must not keep files removed from the repo
        for source, dest in DATA:
            src, out = HERE / source, target / dest
            if not src.exists():
                raise FileNotFoundError(f"packaging: {src} is missing (it must ship in the wheel)")
            out.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(src, out)


setup(cmdclass={"build_py": build_py_with_data})
