"""One audit write per request (issue 14; docs/adr/0002-append-only-audit-trail.md, amended).

While a request is served, what it read or was refused is written at its end in one sealed
multi-row INSERT; the events of a write commit (and roll back) with the write; outside a
request every event is written at once. The trail stays one unbroken hash chain."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse

from clinic.core import audit
from clinic.core.audit import audit_flush, audit_record
from clinic.core.choices import AuditAction
from clinic.core.integrity import chain_verify
from clinic.core.models import AppendOnlyError, AuditEvent
from clinic.core.request_context import buffering_audit
from clinic.patients import selectors as patient_selectors
from tests.concurrency import integrity_verified

pytestmark = pytest.mark.django_db

AUDIT_TABLE = AuditEvent._meta.db_table


def audit_inserts(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith("INSERT") and AUDIT_TABLE in q["sql"].split("(")[0]
    ]


def _request_events(before_id: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=before_id).order_by("id"))


def _last_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _content(events) -> list[tuple]:
    """Who did what to which patient, in order: what an auditor reads."""
    return [
        (e.actor_id, e.action, e.object_type, e.object_id, e.patient_id, e.summary, e.changes)
        for e in events
    ]


def _get(client, url, **extra):
    before = _last_id()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    return response, audit_inserts(queries.captured_queries), _request_events(before)


def test_a_chart_view_writes_all_its_audit_events_in_one_insert(client, patient, nurse):
    client.force_login(nurse)
    url = reverse("patients:patient_chart", args=[patient.uuid])
    response, inserts, events = _get(client, url, REMOTE_ADDR="10.9.8.7")
    assert response.status_code == 200
    assert len(inserts) == 1
    # Every event of the request: who (the nurse), from where, in the one request.
    assert events and {(e.actor_id, e.ip_address, e.channel) for e in events} == {
        (nurse.pk, "10.9.8.7", "web")
    }
    assert len({e.request_id for e in events}) == 1
    assert any(e.action == "view" and e.patient_id == patient.pk for e in events)
    assert chain_verify(AuditEvent)[1] is None


def test_the_batch_records_the_same_events_as_writing_them_one_by_one(
    client, patient, nurse, monkeypatch
):
    client.force_login(nurse)
    url = reverse("patients:patient_chart", args=[patient.uuid])
    _, _, batched = _get(client, url)
    monkeypatch.setattr(audit, "DEFERRED_ACTIONS", frozenset())
    _, inserts, one_by_one = _get(client, url)
    assert len(inserts) == len(one_by_one)  # the old way: one INSERT per event
    assert _content(batched) == _content(one_by_one)


@pytest.mark.parametrize(
    ("actor_name", "url_name"),
    [
        ("front_desk", "patients:patient_list"),
        ("prescriber", "dashboard:home"),
        ("nurse", "dashboard:home"),
        ("clinic_admin", "dashboard:home"),
        ("prescriber", "dashboard:inbasket"),
        ("nurse", "treatment_sessions:board"),
        ("nurse", "treatment_sessions:day"),
        ("clinic_admin", "core:audit_list"),
    ],
)
def test_other_pages_write_at_most_one_audit_insert(client, actors, actor_name, url_name):
    client.force_login(actors[actor_name])
    response, inserts, events = _get(client, reverse(url_name))
    assert response.status_code == 200
    assert len(inserts) == (1 if events else 0)


def test_a_refusal_is_audited_in_the_requests_one_insert(client, patient, actors):
    client.force_login(actors["nurse_off_team"])
    url = reverse("patients:patient_chart", args=[patient.uuid])
    response, inserts, events = _get(client, url)
    assert response.status_code in (403, 404)
    assert len(inserts) == 1
    assert [e.object_id for e in events if e.action == "denied"] == [str(patient.uuid)]


def _reads_then_fails(request, patient_uuid):
    patient_selectors.patient_get(actor=request.user, patient_uuid=patient_uuid)
    raise RuntimeError("the page broke after reading the chart")


urlpatterns = [path("broken/<uuid:patient_uuid>/", _reads_then_fails)]


@pytest.mark.urls("clinic.core.tests.test_audit_batching")
def test_a_view_that_fails_after_reading_still_audits_the_read(client, patient, nurse):
    client.force_login(nurse)
    client.raise_request_exception = False
    response, inserts, events = _get(client, f"/broken/{patient.uuid}/")
    assert response.status_code == 500
    assert len(inserts) == 1
    assert [(e.action, e.patient_id) for e in events] == [("view", patient.pk)]


def test_outside_a_request_each_event_is_written_at_once(nurse, patient):
    before = _last_id()
    audit_record(actor=nurse, action=AuditAction.VIEW, object_type="patient", patient=patient)
    assert [e.action for e in _request_events(before)] == ["view"]


def test_a_write_commits_and_rolls_back_with_its_transaction_reads_are_kept(nurse, patient):
    before = _last_id()
    with buffering_audit() as events:
        audit_record(actor=nurse, action=AuditAction.VIEW, object_type="patient", patient=patient)
        with pytest.raises(RuntimeError), transaction.atomic():
            audit_record(actor=nurse, action=AuditAction.UPDATE, object_type="patient")
            # The write's event is in the write's transaction already...
            assert AuditEvent.objects.filter(id__gt=before, action="update").exists()
            raise RuntimeError("the write fails")
        with transaction.atomic():
            audit_record(actor=nurse, action=AuditAction.CREATE, object_type="patient")
        # ... and the read waits for the end of the request.
        assert [e.action for e in _request_events(before)] == ["create"]
        audit_flush(events)
    assert [e.action for e in _request_events(before)] == ["create", "view"]
    integrity_verified()


def test_bulk_create_is_still_refused_and_batches_link_in_order(nurse):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_create([AuditEvent(action="view")])
    with buffering_audit() as events:
        for n in range(5):
            audit_record(actor=nurse, action=AuditAction.LIST, summary=f"page {n}")
        audit_flush(events)
    written = list(AuditEvent.objects.filter(summary__startswith="page ").order_by("id"))
    assert [e.summary for e in written] == [f"page {n}" for n in range(5)]
    assert all(e.digest for e in written)
    integrity_verified()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.append_batch(written)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_batches_and_single_writes_at_once_keep_the_chain_whole(make_staff):
    """Eight writers at once on PostgreSQL: half flush a request's batch of five reads, half
    write one event in a transaction of their own. `in_threads` runs verify_integrity after."""
    from tests.concurrency import in_threads

    staff = [make_staff("nurse", username=f"batcher{i}") for i in range(8)]
    before = _last_id()

    def work(i):
        if i % 2 == 0:
            with buffering_audit() as events:
                for n in range(5):
                    audit_record(actor=staff[i], action=AuditAction.LIST, summary=f"r{i} {n}")
                audit_flush(events)
        else:
            with transaction.atomic():
                audit_record(actor=staff[i], action=AuditAction.UPDATE, summary=f"w{i}")

    results = in_threads(8, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    written = _request_events(before)
    assert len(written) == 4 * 5 + 4
    # Each batch's five events are consecutive in the chain, in the order they were recorded.
    for i in (0, 2, 4, 6):
        mine = [n for n, e in enumerate(written) if e.summary.startswith(f"r{i} ")]
        assert mine == list(range(mine[0], mine[0] + 5))
        assert [written[n].summary for n in mine] == [f"r{i} {n}" for n in range(5)]
