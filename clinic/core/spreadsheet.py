"""CSV files that people open in a spreadsheet: the one way KetaCare writes a CSV.

Every export goes through `csv_text` or `csv_stream`, which pass each cell (headings included)
through `spreadsheet_safe`; tests/test_architecture.py refuses the `csv` module anywhere else
in the app, so a new export cannot forget the neutralising.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from typing import Any

# A spreadsheet reads a cell that starts with one of these as a formula (or, for tab and
# carriage return, may shift it into one): text typed into KetaCare (a supplier's name, a
# reason, a patient's address, a browser's user agent in the audit trail) must never run as
# one when someone opens the CSV. The full-width forms are read as formulas by some
# spreadsheets in East Asian locales.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Leading characters a spreadsheet may skip before it looks for a formula: spaces of every
# kind, line breaks, and quote marks (straight, curly, full-width).
_SKIPPED = (
    " \t\r\n\v\f\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u3000\ufeff\"'\u2018\u2019\u201c\u201d\uff02\uff07"
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")


def _starts_a_formula(line: str) -> bool:
    return line.startswith(_FORMULA_STARTS) or line.lstrip(_SKIPPED).startswith(_FORMULA_STARTS)


def spreadsheet_safe(value: Any) -> str:
    """A cell as text that a spreadsheet shows and never evaluates: text that would start a
    formula (at its start, after leading spaces or quotes, or on any of its lines, for a
    reader that splits a quoted cell at its line breaks) gets a leading apostrophe, shown by
    no spreadsheet and kept in the file for anyone reading it raw. A plain number, a negative
    one among them, stays a number; "-1+2" is not a number."""
    text = "" if value is None else str(value)
    if _NUMBER.fullmatch(text):
        return text
    parts = _LINE_BREAK.split(text)
    # split() with a capturing group keeps the breaks at odd positions; lines are even.
    for index in range(2, len(parts), 2):
        if _starts_a_formula(parts[index]):
            parts[index] = "'" + parts[index]
    # The cell as a whole: a leading tab or carriage return counts even before a line.
    return ("'" if _starts_a_formula(text) else "") + "".join(parts)


def _safe_row(row: Iterable[Any]) -> list[str]:
    return [spreadsheet_safe(cell) for cell in row]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(headings: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The CSV line by line (for a streaming response), every cell made safe."""
    writer = csv.writer(_Echo())
    yield writer.writerow(_safe_row(headings))
    for row in rows:
        yield writer.writerow(_safe_row(row))


def csv_text(headings: Iterable[Any], rows: Iterable[Iterable[Any]]) -> str:
    """The whole CSV as text, every cell made safe."""
    return "".join(csv_stream(headings, rows))


def read_rows(text: str) -> tuple[list[str], Iterator[dict[str, str]]]:
    """A CSV file's column names (trimmed) and its rows as {column: value}, values trimmed and
    an empty cell as "". Reading needs no neutralising; it lives here so that this module stays
    the only one that touches the csv module (test_spreadsheet.py)."""
    reader = csv.DictReader(io.StringIO(text))
    columns = [name.strip() for name in reader.fieldnames or []]

    def rows() -> Iterator[dict[str, str]]:
        for raw in reader:
            yield {key.strip(): (value or "").strip() for key, value in raw.items() if key}

    return columns, rows()
