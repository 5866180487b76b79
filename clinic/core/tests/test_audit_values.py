"""Values in an audit event's changes are stored as plain JSON, however deeply nested."""

import datetime
import decimal

import pytest

from clinic.core.audit import audit_record
from clinic.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_nested_decimals_and_dates_are_stored_as_text(nurse):
    audit_record(
        actor=nurse,
        action="update",
        object_type="test",
        changes={
            "dose_mg": {"before": decimal.Decimal("40.0"), "after": decimal.Decimal("45.5")},
            "on": {"after": [datetime.date(2031, 6, 2)]},
        },
    )
    event = AuditEvent.objects.get(object_type="test")
    assert event.changes == {
        "dose_mg": {"before": "40.0", "after": "45.5"},
        "on": {"after": ["2031-06-02"]},
    }
