"""A YAML (or JSON) document that remembers the line of every key, so a mistake can be reported where it is."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..core.settings import ConfigError

Key = tuple[str | int, ...]


class DocumentError(ConfigError):
    """A scenario, fault or fixture document that cannot be used. The message names the source (file or
    "admin API" or "marker"), the line where there is one, the key, and what was expected."""


@dataclass
class Document:
    data: Any
    source: str
    lines: dict[Key, int] = field(default_factory=dict)

    def where(self, key: Key) -> str:
        """``file, line N, key a.b[2].c`` (the nearest line known for the key or one of its parents)."""
        dotted = dotted_key(key)
        for depth in range(len(key), -1, -1):
            line = self.lines.get(key[:depth])
            if line is not None:
                return f"{self.source}, line {line}" + (f", key '{dotted}'" if dotted else "")
        return self.source + (f", key '{dotted}'" if dotted else "")

    def error(self, key: Key, expected: str, got: Any = None, show_got: bool = True) -> DocumentError:
        tail = f", got {got!r}" if show_got else ""
        return DocumentError(f"{self.where(key)}: expected {expected}{tail}")


def dotted_key(key: Key) -> str:
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _lines(node: yaml.Node, key: Key, into: dict[Key, int]) -> None:
    into[key] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            name = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            _lines(value_node, (*key, name), into)
            into[(*key, name)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*key, index), into)


def parse_document(text: str, source: str) -> Document:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}, line {mark.line + 1}" if mark is not None else source
        raise DocumentError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from exc
    finally:
        loader.dispose()
    lines: dict[Key, int] = {}
    if node is not None:
        _lines(node, (), lines)
    return Document(data, source, lines)


def load_document(path: str | Path) -> Document:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise DocumentError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return parse_document(text, str(path))


# -- checks shared by the scenario, fault and fixture schemas -------------------------------------------


def mapping(doc: Document, key: Key, value: Any, allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise doc.error(key, "a mapping", type(value).__name__ if value is not None else None)
    if allowed is not None:
        for name in value:
            if name not in allowed:
                raise DocumentError(f"{doc.where((*key, name))}: unknown key '{name}' (expected one of: {', '.join(allowed)})")
    return value


def number(doc: Document, key: Key, value: Any, low: float = 0.0, high: float = math.inf, inf: bool = False) -> float:
    """A number in [low, high]; ``inf`` allows ``.inf`` (YAML) or ``"never"`` (JSON) for "never happens"."""
    if inf and (value == "never" or (isinstance(value, float) and math.isinf(value) and value > 0)):
        return math.inf
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or not low <= value <= high or math.isinf(value):
        bounds = f"between {low:g} and {high:g}" if high != math.inf else f">= {low:g}"
        extra = ' (or .inf / "never")' if inf else ""
        raise doc.error(key, f"a number {bounds}{extra}", value)
    return float(value)


def integer(doc: Document, key: Key, value: Any, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise doc.error(key, f"an integer >= {low}", value)
    return value


def string(doc: Document, key: Key, value: Any, choices: tuple[str, ...] | None = None) -> str:
    if not isinstance(value, str) or not value or (choices is not None and value not in choices):
        raise doc.error(key, f"one of: {', '.join(choices)}" if choices else "a non-empty string", value)
    return value
