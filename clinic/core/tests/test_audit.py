import pytest
from django.db import DatabaseError, connection, transaction

from clinic.core.audit import audit_record, diff
from clinic.core.models import AppendOnlyError, AuditEvent
from clinic.core.request_context import RequestContext, reset_request_context, set_request_context


@pytest.fixture
def event(db, nurse):
    return audit_record(actor=nurse, action="view", object_type="patient", summary="chart")


def test_an_event_records_who_what_and_from_where(db, nurse):
    token = set_request_context(
        RequestContext(ip_address="10.1.2.3", user_agent="Tablet", channel="web")
    )
    try:
        event = audit_record(actor=nurse, action="view", object_type="patient", object_id="abc")
    finally:
        reset_request_context(token)
    event.refresh_from_db()
    assert (event.actor, event.actor_username, event.actor_role) == (nurse, "nurse", "nurse")
    assert (event.action, event.object_type, event.object_id) == ("view", "patient", "abc")
    assert (event.ip_address, event.user_agent, event.channel) == ("10.1.2.3", "Tablet", "web")
    assert event.occurred_at is not None


def test_diff_keeps_only_changed_fields_with_before_and_after():
    before = {"city": "Boston", "phone_mobile": "555", "email": ""}
    after = {"city": "Salem", "phone_mobile": "555", "email": "a@b.org"}
    assert diff(before, after) == {
        "city": {"before": "Boston", "after": "Salem"},
        "email": {"before": "", "after": "a@b.org"},
    }


def test_an_event_cannot_be_changed_through_the_model(event):
    event.summary = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_an_event_cannot_be_changed_through_a_queryset(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(summary="tampered")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE core_auditevent SET summary = 'tampered'",
        "DELETE FROM core_auditevent",
    ],
)
def test_the_database_itself_refuses_update_and_delete(event, statement):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    event.refresh_from_db()
    assert event.summary == "chart"
