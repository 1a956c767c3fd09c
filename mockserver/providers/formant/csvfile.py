"""The CSV of a batch call: a ``customer_phone`` column in E.164, other columns become call parameters.

Rows are numbered as lines of the file: the header is row 1, the first call is row 2 (blank lines are
skipped but still counted, so a row number always points at the line to fix).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from ...core.errors import InvalidRequest
from ...core.hostile import excerpt

PHONE_COLUMN = "customer_phone"
# E.164: "+", a country code that does not start with 0, at most 15 digits in all (7 at least, our choice)
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@dataclass(frozen=True)
class Recipient:
    row: int
    phone: str
    parameters: dict[str, str]


def _bad(message: str) -> InvalidRequest:
    return InvalidRequest(message, param="file")


def parse_csv(filename: str, content: bytes, max_rows: int | None = None) -> list[Recipient]:
    """One recipient per data row, or a 400 ``invalid_request`` that names the file or the row. More than
    ``max_rows`` data rows are refused as soon as the first extra row is read (the rest is not parsed)."""
    if not filename.lower().endswith(".csv"):
        raise _bad(f"'file' must be a .csv file, got {excerpt(filename) if filename else '(no file name)'}.")
    filename = filename if len(filename) <= 80 else filename[:77] + "..."
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad(f"{filename!r} is not a CSV file: it is not UTF-8 text.") from None
    if "\x00" in text:
        raise _bad(f"{filename!r} is not a CSV file: it contains binary data.")
    if not text.strip():
        raise _bad(f"{filename!r} is empty: expected a header row with a {PHONE_COLUMN} column, then one row per call.")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next((row for row in reader if any(cell.strip() for cell in row)), None)
        if header is None:
            raise _bad(f"{filename!r} is empty: expected a header row with a {PHONE_COLUMN} column, then one row per call.")
        names = [name.strip() for name in header]
        header_row = reader.line_num
        if PHONE_COLUMN not in names:
            found = ", ".join(excerpt(name, 20) for name in names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
            raise _bad(f"Row {header_row} (header) has no {PHONE_COLUMN} column; found: {found}.")
        if "" in names:
            raise _bad(f"Row {header_row} (header): column {names.index('') + 1} has no name.")
        phone_at = names.index(PHONE_COLUMN)
        recipients = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            line = reader.line_num
            if len(row) != len(names):
                raise _bad(f"Row {line} has {len(row)} fields, but the header has {len(names)}.")
            phone = row[phone_at].strip()
            if not E164.match(phone):
                raise _bad(f"Row {line}: {PHONE_COLUMN} {excerpt(phone)} is not an E.164 number (e.g. +919876543210).")
            parameters = {name: value for name, value in zip(names, row) if name != PHONE_COLUMN}
            recipients.append(Recipient(line, phone, parameters))
            if max_rows is not None and len(recipients) > max_rows:
                raise _bad(f"{filename!r} has more than {max_rows} data rows; a batch call takes at most {max_rows} (row {line} is the first extra one).")
    except csv.Error as exc:
        raise _bad(f"Row {reader.line_num}: not valid CSV ({excerpt(str(exc), 120)}).") from None
    if not recipients:
        raise _bad(f"{filename!r} has a header but no rows: expected one row per call from row {header_row + 1}.")
    return recipients
