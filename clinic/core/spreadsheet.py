"""Cells for CSV files that people open in a spreadsheet."""

from __future__ import annotations

import re

# A spreadsheet reads a cell that starts with one of these as a formula (or, for tab and
# carriage return, may shift it into one): text typed into KetaCare (a supplier's name, a
# reason, a patient's address, a browser's user agent in the audit trail) must never run as
# one when someone opens the CSV.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def spreadsheet_safe(value) -> str:
    """A cell as text that a spreadsheet shows and never evaluates: text that would start a
    formula gets a leading apostrophe (shown by no spreadsheet, kept in the file for anyone
    reading it raw). Numbers, negative ones among them, stay numbers."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text
