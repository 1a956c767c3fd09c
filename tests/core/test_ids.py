from __future__ import annotations

import random
import string

import pytest

from mockserver.core.ids import IdFactory, _choices, _one_by_one


def test_same_seed_same_ids_and_reset_replays() -> None:
    a, b = IdFactory(7), IdFactory(7)
    first = [a.new("batch_") for _ in range(3)]
    assert first == [b.new("batch_") for _ in range(3)]
    assert all(x.startswith("batch_") and len(x) == 30 for x in first)
    a.reset()
    assert a.new("batch_") == first[0]
    assert IdFactory(8).new("batch_") != first[0]


def test_sequences_count_per_scope_from_one() -> None:
    ids = IdFactory(0)
    assert [ids.sequence("a"), ids.sequence("a"), ids.sequence("b")] == [1, 2, 1]


def test_each_prefix_has_its_own_stream_so_reads_do_not_shift_resource_ids() -> None:
    quiet, busy = IdFactory(3), IdFactory(3)
    first = quiet.new("batch_")
    assert busy.new("batch_") == first
    for _ in range(50):  # every request mints a request id
        busy.hex("req_")
    assert busy.new("batch_") == quiet.new("batch_")


def test_one_by_one_is_what_random_choice_draws() -> None:
    for seed in range(50):
        for alphabet in (string.ascii_letters + string.digits, "0123456789abcdef"):
            mine, theirs = random.Random(seed), random.Random(seed)
            assert _one_by_one(mine, alphabet, 30) == "".join(theirs.choice(alphabet) for _ in range(30))


@pytest.mark.parametrize(("alphabet", "length"), [(string.ascii_letters + string.digits, 24), ("0123456789abcdef", 32), ("0123456789abcdef", 21), ("abc", 5)])
def test_ids_drawn_in_bulk_are_the_ids_drawn_one_by_one_and_leave_the_stream_in_step(alphabet: str, length: int) -> None:
    for seed in range(300):
        bulk, single = random.Random(seed), random.Random(seed)
        for _ in range(3):
            assert _choices(bulk, alphabet, length) == _one_by_one(single, alphabet, length)
        assert bulk.random() == single.random()


def test_factory_ids_are_unchanged_by_the_bulk_draw() -> None:
    ids = IdFactory(5)
    stream = random.Random("5:batch_")
    assert [ids.new("batch_") for _ in range(50)] == ["batch_" + _one_by_one(stream, string.ascii_letters + string.digits, 24) for _ in range(50)]
    hexes = random.Random("5:")
    assert [ids.hex("", 32) for _ in range(50)] == [_one_by_one(hexes, "0123456789abcdef", 32) for _ in range(50)]
