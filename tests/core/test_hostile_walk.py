"""The one walk over user JSON (core/hostile.py): what it refuses, where it says the problem is, and the cheap
text check that lets a JSONL line skip the walk only when the walk could find nothing."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mockserver.core.hostile import cannot_hold_problem, json_problem


def test_the_problem_is_named_by_its_path() -> None:
    assert json_problem({"a": [1, {"b": "x\ud800"}]}, 64) == ("a[1].b", "contains a lone surrogate (not valid Unicode text)")
    assert json_problem({"a": {"\udfff": 1}}, 64) == ("a.\\udfff", "has a key that is not valid Unicode text (a lone surrogate)")
    assert json_problem([[[1]]], 2) == ("[0][0]", "is nested more than 2 levels deep")
    assert json_problem({"k": "\ud800"}, 64, "body") == ("body.k", "contains a lone surrogate (not valid Unicode text)")
    assert json_problem("\ud800", 64) == ("body", "contains a lone surrogate (not valid Unicode text)")
    assert json_problem({"ok": ["é", "\ud83d\ude00".encode("utf-16", "surrogatepass").decode("utf-16")]}, 64) is None


def test_depth_counts_containers_from_the_root() -> None:
    nested: Any = 1
    for _ in range(64):
        nested = [nested]
    assert json_problem(nested, 64) is None
    assert json_problem([nested], 64) == ("[0]" * 64, "is nested more than 64 levels deep")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.characters(codec=None), max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=20,
)


@given(value=json_values, depth=st.integers(min_value=1, max_value=6))
def test_a_text_the_check_passes_holds_no_problem(value: Any, depth: int) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False) if _encodable(value) else json.dumps(value)):
        if cannot_hold_problem(text, depth):
            assert json_problem(json.loads(text), depth) is None


def test_the_check_sends_escapes_and_many_brackets_to_the_walk() -> None:
    assert cannot_hold_problem('{"a": [1, 2], "b": "é"}', 2)
    assert not cannot_hold_problem('{"a": "\\ud800"}', 64)
    assert not cannot_hold_problem('{"a": [1, 2]}', 1)


def _encodable(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True
