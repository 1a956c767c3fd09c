"""ARCHITECTURE.md's one rule, enforced: a module imports only from its own layer or the layers above."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mockserver"
FRONT_DOORS = ("mockserver.cli", "mockserver.live", "mockserver.pytest_plugin", "mockserver.contract", "mockserver.__main__")
APP = ("mockserver.dispatch", "mockserver.admin", "mockserver.app", "mockserver.dashboard", "mockserver.dashboard_state")
# the state side of a provider: no HTTP (starlette, the spec layer, handlers) may reach these
MODEL_MODULES = ("models", "lifecycle", "scenarios", "inputs", "results", "csvfile")


def _modules() -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        name = ".".join(parts)
        imports: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imports |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = parts if is_pkg else parts[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                    imports.add(target)
                    imports |= {f"{target}.{alias.name}" for alias in node.names}
                elif node.module:
                    imports.add(node.module)
        result[name] = imports
    return result


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_core_imports_nothing_else_of_mockserver() -> None:
    for module, imports in _modules().items():
        if _within(module, ("mockserver.core",)):
            bad = {i for i in imports if i.startswith("mockserver") and not _within(i, ("mockserver.core",))}
            assert not bad, f"{module} imports {bad}"


def test_spec_layer_imports_only_core() -> None:
    for module, imports in _modules().items():
        if _within(module, ("mockserver.spec",)):
            bad = {i for i in imports if i.startswith("mockserver") and not _within(i, ("mockserver.core", "mockserver.spec"))}
            assert not bad, f"{module} imports {bad}"


def test_provider_models_never_touch_http() -> None:
    checked = 0
    for module, imports in _modules().items():
        if _within(module, ("mockserver.providers",)) and module.rsplit(".", 1)[-1] in MODEL_MODULES:
            checked += 1
            bad = {
                i for i in imports
                if i.startswith("starlette") or _within(i, ("mockserver.spec", "mockserver.providers.base", *APP))
                or i.endswith(".handlers")
            }
            assert not bad, f"{module} imports {bad}"
    assert checked >= 8


def test_nothing_below_the_front_doors_imports_them_and_providers_do_not_import_the_app() -> None:
    for module, imports in _modules().items():
        if not _within(module, FRONT_DOORS):
            bad = {i for i in imports if _within(i, FRONT_DOORS)}
            assert not bad, f"{module} imports front door {bad}"
        if _within(module, ("mockserver.providers",)):
            bad = {i for i in imports if _within(i, APP)}
            assert not bad, f"{module} imports {bad}"
