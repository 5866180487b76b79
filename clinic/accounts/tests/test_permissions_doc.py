"""docs/permissions.md is the written form of `permissions.MATRIX`: the two must agree."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from clinic.accounts.choices import STAFF_ROLES
from clinic.accounts.permissions import MATRIX, Capability

DOC = Path(settings.BASE_DIR) / "docs" / "permissions.md"
ALLOWED = "yes"
REFUSED = "—"


def _cells(line: str) -> list[str]:
    return [cell.strip().strip("`").strip() for cell in line.strip().strip("|").split("|")]


def documented_matrix() -> tuple[list[str], dict[str, dict[str, str]]]:
    """The role columns and, per capability row, each role's mark, as the document has them."""
    lines = [line for line in DOC.read_text().splitlines() if line.lstrip().startswith("|")]
    header_index = next(i for i, line in enumerate(lines) if "clinic_admin" in _cells(line))
    roles = _cells(lines[header_index])[1:]
    rows: dict[str, dict[str, str]] = {}
    for line in lines[header_index + 2 :]:
        cells = _cells(line)
        if len(cells) != len(roles) + 1:
            break
        capability = cells[0]
        assert capability not in rows, f"{capability} is listed twice"
        rows[capability] = dict(zip(roles, cells[1:], strict=True))
    return roles, rows


def test_the_table_has_one_column_per_staff_role():
    roles, _ = documented_matrix()

    assert len(roles) == len(set(roles))
    assert set(roles) == {role.value for role in STAFF_ROLES}


def test_the_table_has_one_row_per_capability():
    _, rows = documented_matrix()

    assert set(rows) == {capability.value for capability in Capability}
    assert set(rows) == {capability.value for capability in MATRIX}


def test_each_mark_matches_the_matrix():
    roles, rows = documented_matrix()

    for capability, allowed_roles in MATRIX.items():
        for role in roles:
            expected = ALLOWED if role in allowed_roles else REFUSED
            assert rows[capability.value][role] == expected, (capability.value, role)


def test_patients_have_no_column():
    roles, _ = documented_matrix()

    assert "patient" not in roles
