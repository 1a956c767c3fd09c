"""Cursor pagination: one rule for every provider's list, and the two list envelopes a page goes out in.

A page starts after the item the cursor names and holds at most ``limit`` items; ``has_more`` says whether
items follow it. An unknown cursor gives an empty last page (``[]``, ``False``), whoever's list it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def _after_id(items: Sequence[Any], cursor: str) -> int | None:
    """One past the item whose ``id`` is ``cursor``, or None when no item has it."""
    for index, item in enumerate(items):
        if item.id == cursor:
            return index + 1
    return None


def cursor_page(
    items: Sequence[T],
    limit: int,
    cursor: str | None = None,
    *,
    start_of: Callable[[str], int | None] | None = None,
    skip: int = 0,
) -> tuple[list[T], bool]:
    """A page of ``items`` (already in the order the list shows): after ``cursor``, then ``skip`` more, at most
    ``limit``; and whether more follow.

    ``start_of(cursor)`` is where the page starts in ``items`` (None: an unknown cursor); by default one past the
    item whose ``id`` is the cursor. A list whose cursor may name an item it filtered out passes its own (e.g. the
    position of the cursor's creation order in the sorted items)."""
    start = 0
    if cursor:
        found = (start_of or (lambda key: _after_id(items, key)))(cursor)
        if found is None:
            return [], False
        start = found
    start += skip
    return list(items[start : start + limit]), start + limit < len(items)


def first_last_list(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    """``{"object": "list", "data", "first_id", "last_id", "has_more"}``: the next page is asked for with
    ``after=<last_id>``."""
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


def keyed_list(items: list[dict[str, Any]], last_key: str | None, has_more: bool) -> dict[str, Any]:
    """``{"items", "has_more", "pagination_key"}``: the key of the page's last item, sent only when more follow
    (the next page is asked for with it)."""
    data: dict[str, Any] = {"items": items, "has_more": has_more}
    if has_more:
        data["pagination_key"] = last_key
    return data
