"""core/pages.py: the one cursor-pagination rule every provider's list uses."""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.core.pages import cursor_page, first_last_list, keyed_list


@dataclass
class Item:
    id: str
    seq: int


ITEMS = [Item(f"it_{n}", n) for n in range(5)]


def test_a_page_starts_after_the_cursor_and_says_whether_more_follow() -> None:
    assert cursor_page(ITEMS, 2) == (ITEMS[:2], True)
    assert cursor_page(ITEMS, 2, "it_1") == (ITEMS[2:4], True)
    assert cursor_page(ITEMS, 2, "it_2") == (ITEMS[3:], False)
    assert cursor_page(ITEMS, 10, "it_4") == ([], False)


def test_an_unknown_cursor_is_an_empty_last_page() -> None:
    assert cursor_page(ITEMS, 2, "it_missing") == ([], False)


def test_skip_counts_from_the_cursor() -> None:
    assert cursor_page(ITEMS, 2, skip=1) == (ITEMS[1:3], True)
    assert cursor_page(ITEMS, 2, "it_0", skip=2) == (ITEMS[3:], False)


def test_a_list_may_place_a_cursor_that_names_an_item_it_left_out() -> None:
    shown = [i for i in ITEMS if i.seq != 2]  # it_2 filtered out, but its place in the order is known
    def start_of(key: str) -> int | None:
        mark = int(key.removeprefix("it_"))
        return next((n for n, item in enumerate(shown) if item.seq > mark), len(shown))
    assert cursor_page(shown, 5, "it_2", start_of=start_of) == ([ITEMS[3], ITEMS[4]], False)


def test_the_two_envelopes() -> None:
    assert first_last_list([{"id": "a"}, {"id": "b"}], True) == {
        "object": "list", "data": [{"id": "a"}, {"id": "b"}], "first_id": "a", "last_id": "b", "has_more": True
    }
    assert first_last_list([], False) == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
    assert keyed_list([{"x": 1}], "k1", True) == {"items": [{"x": 1}], "has_more": True, "pagination_key": "k1"}
    assert keyed_list([{"x": 1}], "k1", False) == {"items": [{"x": 1}], "has_more": False}
