"""Parsing a batch CSV: one recipient per row, or a 400 that names the row to fix."""

from __future__ import annotations

import re

import pytest

from mockserver.core.errors import InvalidRequest
from mockserver.providers.formant.csvfile import parse_csv


def test_other_columns_become_call_parameters() -> None:
    rows = parse_csv("c.csv", b"customer_name,customer_phone,plan\r\nAsha, +919876543210 ,gold\r\n\r\nRavi,+14155550100,\"silver, old\"\r\n")
    assert [(r.row, r.phone, r.parameters) for r in rows] == [
        (2, "+919876543210", {"customer_name": "Asha", "plan": "gold"}),
        (4, "+14155550100", {"customer_name": "Ravi", "plan": "silver, old"}),
    ]


def test_a_byte_order_mark_is_not_part_of_the_header() -> None:
    assert parse_csv("c.CSV", "\ufeffcustomer_phone\n+919876543210\n".encode())[0].phone == "+919876543210"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"customer_phone\n+919876543210\n+0123456789\n", "Row 3: customer_phone '+0123456789'"),
        (b"customer_phone\n919876543210\n", "Row 2: customer_phone '919876543210'"),
        (b"customer_phone\n+91 98765 43210\n", "Row 2"),
        (b"customer_phone\n\n\n+12\n", "Row 4"),
        (b"customer_phone,,name\n+919876543210,,a\n", "column 2 has no name"),
        (b'customer_phone,name\n+919876543210,"unterminated\n', "not valid CSV"),
        (b",,\n,,\n", "is empty"),
        (b"\xff\xfe\x00c", "not UTF-8"),
    ],
)
def test_problems_name_the_row(content: bytes, message: str) -> None:
    with pytest.raises(InvalidRequest, match=re.escape(message)) as info:
        parse_csv("contacts.csv", content)
    assert info.value.status == 400 and info.value.kind == "invalid_request"
