"""Defences against hostile input that every layer shares (issue 12): short excerpts of bad values, text that
can always be sent back, and one bounded walk over user JSON (depth and encodability) before anything is stored.
"""

from __future__ import annotations

from typing import Any

EXCERPT = 40  # characters of a bad value an error message may quote
MAX_MESSAGE = 1000  # characters an error message may have in all


def excerpt(value: Any, limit: int = EXCERPT) -> str:
    """``repr(value)``, cut to about ``limit`` characters (with how much was cut), and always encodable."""
    if isinstance(value, (str, bytes)) and len(value) > limit:
        shown = repr(value[:limit])
        return safe_text(f"{shown}... ({len(value)} {'characters' if isinstance(value, str) else 'bytes'})")
    if isinstance(value, (list, tuple, dict)) and len(value) > 8:
        return f"<{type(value).__name__} of {len(value)} items>"
    text = repr(value)
    return safe_text(text if len(text) <= limit * 2 else text[: limit * 2] + "...")


def safe_text(text: str, limit: int | None = None) -> str:
    """``text`` as UTF-8 can carry it (a lone surrogate becomes ``\\udXXX``), cut to ``limit`` characters."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"... ({len(text) - limit} more characters)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = key if encodable(key) else safe_text(key)
    key = key if len(key) <= EXCERPT else key[:EXCERPT] + "..."
    return f"{path}.{key}" if path else key


def json_problem(value: Any, max_depth: int, root: str = "") -> tuple[str, str] | None:
    """The first thing in parsed JSON ``value`` the fake refuses to store: ``(field, what is wrong)``, or None.

    Iterative (a hostile body cannot exhaust the stack): nesting deeper than ``max_depth`` and strings or keys
    that UTF-8 cannot encode (a lone surrogate such as ``"\\ud800"``, which JSON allows) are refused. The
    field's path is spelled only for the item refused (each item keeps its parent's trail and its own key).
    """
    stack: list[tuple[Any, Any, int]] = [(value, None, 0)]
    while stack:
        item, trail, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and not encodable(item):
                return _path(root, trail) or "body", "contains a lone surrogate (not valid Unicode text)"
        elif isinstance(item, (dict, list)):
            if depth >= max_depth:
                return _path(root, trail) or "body", f"is nested more than {max_depth} levels deep"
            depth += 1
            if isinstance(item, dict):
                for key, child in item.items():
                    if not key.isascii() and not encodable(key):
                        return _join(_path(root, trail), key), "has a key that is not valid Unicode text (a lone surrogate)"
                    stack.append((child, (trail, key), depth))
            else:
                stack.extend((child, (trail, i), depth) for i, child in enumerate(item))
    return None


def _path(root: str, trail: Any) -> str:
    """The path of an item from its trail ``(parent's trail, key)`` (None at the root)."""
    keys = []
    while trail is not None:
        trail, key = trail
        keys.append(key)
    path = root
    for key in reversed(keys):
        path = _join(path, key)
    return path


def cannot_hold_problem(text: str, max_depth: int) -> bool:
    """True if the JSON text ``text`` (a str, so it holds no surrogate itself) can give no ``json_problem``:
    no ``\\u`` escape (the only way to write a lone surrogate) and at most ``max_depth`` brackets that open
    (its nesting is at most their number). Cheap: a line it passes needs no walk; any other line is walked."""
    return "\\u" not in text and text.count("{") + text.count("[") <= max_depth
