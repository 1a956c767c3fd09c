"""ARCHITECTURE.md's one rule, enforced: a module imports only from its own layer or the layers above it."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parents[1] / "mockserver"
# the layers, top first; a module may import only its own layer and the layers before it
LAYERS: tuple[tuple[str, ...], ...] = (
    ("mockserver.core",),
    ("mockserver.spec",),
    ("mockserver.providers",),
    ("mockserver.config",),
    ("mockserver.server",),
    ("mockserver.testing", "mockserver.contract", "mockserver.record", "mockserver.cli", "mockserver.__main__"),
)
# the state side of a provider: no HTTP (starlette, the spec layer, handlers) may reach these
MODEL_MODULES = ("models", "lifecycle", "scenarios", "inputs", "results", "bodies", "call_filters", "csvfile", "outcomes", "batch_calls", "view")
# provider knowledge reaches core/, spec/ and server/ only through each provider's own hooks
PROVIDER_WORDS = re.compile(r"anyapi|portkey|phaseo|retell|formant|x-ai-stats|anthropic|openai", re.IGNORECASE)
NEUTRAL = ("mockserver.core", "mockserver.spec", "mockserver.server")


def _parse(path: Path) -> tuple[str, bool, ast.Module]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    return ".".join(parts), is_pkg, ast.parse(path.read_text())


def _modules() -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name, is_pkg, tree = _parse(path)
        parts = name.split(".")
        imports: set[str] = set()
        for node in ast.walk(tree):
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


def _layer(name: str) -> int | None:
    for index, prefixes in enumerate(LAYERS):
        if _within(name, prefixes):
            return index
    return None


def test_every_module_belongs_to_a_layer() -> None:
    loose = sorted(m for m in _modules() if m != "mockserver" and _layer(m) is None)
    assert not loose, f"modules outside every layer of ARCHITECTURE.md: {loose}"


def test_a_module_imports_only_its_own_layer_and_the_layers_above() -> None:
    checked = 0
    for module, imports in _modules().items():
        own = _layer(module)
        if own is None:
            continue
        checked += 1
        bad = {i for i in imports if i.startswith("mockserver.") and (_layer(i) or 0) > own}
        assert not bad, f"{module} (layer {own}) imports from a lower layer: {sorted(bad)}"
    assert checked > 60


def test_provider_models_never_touch_http() -> None:
    checked = 0
    for module, imports in _modules().items():
        if _within(module, ("mockserver.providers",)) and module.rsplit(".", 1)[-1] in MODEL_MODULES:
            checked += 1
            bad = {
                i for i in imports
                if i.startswith("starlette") or _within(i, ("mockserver.spec", "mockserver.providers.base"))
                or i.endswith(".handlers")
            }
            assert not bad, f"{module} imports {bad}"
    assert checked >= 8


def test_no_provider_names_in_the_neutral_layers() -> None:
    """core/, spec/ and server/ serve any provider: its name, headers or quirks never appear there as data."""
    for path in PACKAGE.rglob("*.py"):
        name, _, tree = _parse(path)
        if not _within(name, NEUTRAL):
            continue
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
        }
        found = [
            (node.lineno, node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and PROVIDER_WORDS.search(node.value)
        ]
        assert not found, f"{name} names a provider: {found}"


# the file roles every provider package has (ARCHITECTURE.md "One shape for every provider package"); the
# dialects of openai_family keep their state, lifecycle, scenarios and view in openai_family/
PROVIDER_FILES = ("__init__.py", "errors.py", "handlers.py")
OWN_BACKEND_FILES = ("models.py", "lifecycle.py", "scenarios.py", "view.py")


def test_every_provider_package_has_the_same_file_roles() -> None:
    from mockserver.providers.registry import PROVIDERS

    for name, provider in PROVIDERS.items():
        package = PACKAGE / "providers" / name
        wanted = PROVIDER_FILES + (() if provider.dialect is not None else OWN_BACKEND_FILES)
        missing = [f for f in wanted if not (package / f).is_file()]
        assert not missing, f"providers/{name}/ lacks {missing}"
        assert importlib.import_module(f"mockserver.providers.{name}").PROVIDER is provider


def test_every_backend_offers_what_the_neutral_layers_call() -> None:
    """core.backend.Backend: what the admin API, the quotas and the fixtures loader call, and nothing probed."""
    from mockserver.core.backend import Backend
    from mockserver.core.engine import Engine
    from mockserver.core.settings import Settings
    from mockserver.providers.registry import PROVIDERS

    engine = Engine(Settings(), {name: p.make_backend for name, p in PROVIDERS.items()})
    for name in PROVIDERS:
        backend = engine.backend(name, "sk-architecture")
        assert isinstance(backend, Backend), name
        assert backend.stored_bytes() == 0 and list(backend.all_batches()) == []


def _module_level(function: Any) -> bool:
    """Whether ``function`` can be imported by name from its module (not a closure, not a lambda)."""
    module = importlib.import_module(function.__module__)
    return "<locals>" not in function.__qualname__ and getattr(module, function.__name__, None) is function


def test_every_handler_is_a_module_level_function() -> None:
    from mockserver.providers.registry import PROVIDERS
    from mockserver.server.admin import admin_routes

    for name, provider in PROVIDERS.items():
        closures = [op for op, handler in provider.handlers.items() if not _module_level(handler)]
        assert not closures, f"{name}: handlers built as closures: {closures}"
    closures = [r.path for r in admin_routes() if not _module_level(r.endpoint)]
    assert not closures, f"admin handlers built as closures: {closures}"
